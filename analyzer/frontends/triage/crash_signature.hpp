// A crash's signature: what makes two dumps of the same bug compare equal
// whatever the dump format, filtering, KASLR slide or machine. It is a hash
// of the crash kind, the module that owns the crashing frame and the
// normalized crashing stack: function names only (no offsets, addresses or
// compiler suffixes such as ".cold", ".isra.0"), the panic/oops plumbing
// above the faulting function dropped, the top kSignatureFrames kept.
//
// Inline frames are shown with the normalized stack but not hashed: the
// kernel's console trace cannot see them, and a signature made from the log
// alone (no vmlinux) must equal the one made from the unwound stack.
//
// The title is syzbot's style: the oops/panic headline with its addresses
// dropped, " in " the first normalized frame
// ("BUG: kernel NULL pointer dereference in fx_crash_level3").
#pragma once

#include "analyzer/os/linux/printk_log.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::frontends::triage {

inline constexpr size_t kSignatureFrames = 5;

// One frame of a crashing stack, as the unwinder or the console gives it.
struct SignatureFrame {
  std::string function;  // symbol name, suffixes allowed ("fx_crash_level3.cold")
  std::string module;    // "" for vmlinux
  bool inlined = false;  // an inline instance (not hashed)
};

struct CrashSignature {
  std::string kind;    // crash_kind()
  std::string module;  // the module of the first kept frame, "" for vmlinux
  std::vector<SignatureFrame> frames;  // normalized, top kSignatureFrames out-of-line frames and their inlines
  std::string hash;    // 16 hex digits
  std::string title;
  std::string source;  // "stack" (unwound with vmlinux) or "console" (the log's trace)
};

// The kind of crash the panic line (and the log) says: "oops", "bug",
// "panic", "hung_task", "soft_lockup", "hard_lockup", "rcu_stall", "oom",
// "sysrq", "watchdog", "mce", "warning", or "unknown".
std::string crash_kind(std::string_view panic_line, const std::vector<linux_kernel::LogRecord>& log);

// The function name without compiler suffixes ("fx_crash_level3.cold" ->
// "fx_crash_level3").
std::string normalized_function(std::string_view name);

// Whether a function is part of the panic/oops/exception plumbing (panic,
// die, oops_end, crash_kexec, asm_exc_*, exc_*, the page-fault path,
// dump_stack, arm64's el1 exception entry, ...).
bool is_plumbing_frame(std::string_view function);

// The signature of a crashing stack, innermost frame first.
CrashSignature make_signature(std::string_view kind, std::string_view panic_line,
                              const std::vector<SignatureFrame>& stack, std::string source);

// The crashing call trace the kernel printed to its log: the faulting
// function ("RIP: 0010:f+0x.../0x..." on x86_64, "pc : f+0x..." on arm64)
// then the reliable frames of the "Call Trace:" / "Call trace:" block that
// follows the panic line (frames marked "?" are left out). Empty when the
// log holds no trace.
std::vector<SignatureFrame> console_trace(const std::vector<linux_kernel::LogRecord>& log,
                                          std::string_view panic_line);

// The address that faulted, from the oops line ("address: 0000...",
// "at virtual address 0000...").
std::optional<uint64_t> fault_address(std::string_view panic_line);

// The log's first "WARNING:" or "BUG:" line: what often explains a later
// crash.
std::optional<std::string> first_warning(const std::vector<linux_kernel::LogRecord>& log);

// "CPU: 0 PID: 1 Comm: init ..." after the panic line: the crashing CPU,
// PID and command as the kernel printed them.
struct ConsoleCrash {
  uint32_t cpu = 0;
  int64_t pid = 0;
  std::string comm;
};
std::optional<ConsoleCrash> console_crash(const std::vector<linux_kernel::LogRecord>& log,
                                          std::string_view panic_line);

}  // namespace coroner::frontends::triage
