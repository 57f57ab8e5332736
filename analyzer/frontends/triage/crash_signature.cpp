#include "analyzer/frontends/triage/crash_signature.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <regex>

namespace coroner::frontends::triage {

namespace {

// How far after the panic line the crash report's lines (registers, trace)
// are looked for; a report is a few dozen lines.
constexpr size_t kReportLines = 200;
// Frames above the faulting function are plumbing only near the top.
constexpr size_t kPlumbingDepth = 48;

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// The log as lines: a record's continuation lines are lines of their own.
std::vector<std::string_view> log_lines(const std::vector<linux_kernel::LogRecord>& log) {
  std::vector<std::string_view> lines;
  for (const auto& record : log) {
    std::string_view text = record.text;
    for (size_t start = 0;;) {
      size_t end = text.find('\n', start);
      lines.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
  }
  return lines;
}

// The index of the panic line (the first line that is it), or lines.size().
size_t panic_line_index(const std::vector<std::string_view>& lines, std::string_view panic_line) {
  if (panic_line.empty()) return lines.size();
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i] == panic_line) return i;
  return lines.size();
}

// 64-bit FNV-1a: small, fixed forever, identical on every host.
uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// The oops/panic headline without its variable parts (addresses).
std::string headline(std::string_view kind, std::string_view panic_line) {
  if (contains(panic_line, "NULL pointer dereference")) return "BUG: kernel NULL pointer dereference";
  if (contains(panic_line, "paging request") || contains(panic_line, "unable to handle page fault"))
    return "BUG: unable to handle page fault";
  if (contains(panic_line, "general protection fault")) return "general protection fault";
  if (contains(panic_line, "kernel BUG at") || contains(panic_line, "Kernel BUG at")) return "kernel BUG";
  if (auto at = panic_line.find("Kernel panic - not syncing: "); at != std::string_view::npos)
    return "kernel panic: " + std::string(panic_line.substr(at + 28));
  if (kind == "unknown" || panic_line.empty()) return "unknown crash";
  std::string line(panic_line);
  if (auto comma = line.find(", address:"); comma != std::string::npos) line.erase(comma);
  return line;
}

// "name+0x1a/0x40 [module]" with an optional leading "? ": a frame line of
// the kernel's call trace (after the log prefix).
const std::regex& frame_pattern() {
  static const std::regex pattern(R"(^\s*(\? )?([A-Za-z0-9_.$]+)\+0x[0-9a-f]+/0x[0-9a-f]+(?: \[([A-Za-z0-9_-]+)\])?\s*$)");
  return pattern;
}

}  // namespace

std::string crash_kind(std::string_view panic_line, const std::vector<linux_kernel::LogRecord>& log) {
  for (const auto& record : log)
    if (contains(record.text, "sysrq: Trigger a crash") || contains(record.text, "SysRq : Trigger a crash"))
      return "sysrq";
  const std::string_view line = panic_line;
  if (line.empty()) return "unknown";
  if (contains(line, "kernel BUG at") || contains(line, "Kernel BUG at")) return "bug";
  if (contains(line, "[Hardware Error]") || contains(line, "Machine check")) return "mce";
  if (contains(line, "Kernel panic - ")) {
    if (contains(line, "hung_task: blocked tasks")) return "hung_task";
    if (contains(line, "softlockup")) return "soft_lockup";
    if (contains(line, "Hard LOCKUP") || contains(line, "hardlockup")) return "hard_lockup";
    if (contains(line, "RCU Stall")) return "rcu_stall";
    if (contains(line, "Out of memory") || contains(line, "out of memory") || contains(line, "deadlocked on memory"))
      return "oom";
    if (contains(line, "sysrq")) return "sysrq";
    if (contains(line, "panic_on_warn")) return "warning";
    if (contains(line, "watchdog") || contains(line, "Watchdog")) return "watchdog";
    return "panic";
  }
  return "oops";
}

std::string normalized_function(std::string_view name) {
  // ".cold", ".isra.0", ".constprop.0", ".part.0", ".llvm.123": GCC and
  // clang clones of the same function.
  return std::string(name.substr(0, name.find('.', 1)));
}

bool is_plumbing_frame(std::string_view function) {
  static constexpr std::array<std::string_view, 48> kNames = {
      "panic", "vpanic", "nmi_panic", "die", "__die", "__die_body", "die_kernel_fault", "oops_begin", "oops_end",
      "__crash_kexec", "crash_kexec", "machine_kexec", "machine_crash_shutdown", "crash_save_cpu",
      "page_fault_oops", "kernelmode_fixup_or_oops", "no_context", "__bad_area_nosemaphore",
      "bad_area_nosemaphore", "do_user_addr_fault", "do_kern_addr_fault", "handle_page_fault", "do_trap",
      "do_error_trap", "handle_bug", "report_bug", "__warn", "warn_slowpath_fmt", "dump_stack", "dump_stack_lvl",
      "show_stack", "dump_backtrace", "show_regs", "__do_kernel_fault", "do_page_fault", "do_translation_fault",
      "do_mem_abort", "do_bad_area", "el1_abort", "el1_da", "el1h_64_sync_handler", "el1h_64_sync",
      "bug_handler", "call_break_hook", "brk_handler", "do_debug_exception", "el1_dbg", "arm64_notify_die"};
  const std::string name = normalized_function(function);
  if (name.starts_with("asm_exc_") || name.starts_with("exc_")) return true;
  return std::find(kNames.begin(), kNames.end(), name) != kNames.end();
}

CrashSignature make_signature(std::string_view kind, std::string_view panic_line,
                              const std::vector<SignatureFrame>& stack, std::string source) {
  CrashSignature signature;
  signature.kind = kind;
  signature.source = std::move(source);
  // Everything up to the deepest plumbing frame near the top is how the
  // kernel reported the crash, not where it happened.
  size_t start = 0;
  for (size_t i = 0; i < std::min(stack.size(), kPlumbingDepth); ++i)
    if (is_plumbing_frame(stack[i].function)) start = i + 1;
  size_t kept = 0;
  for (size_t i = start; i < stack.size(); ++i) {
    const SignatureFrame& frame = stack[i];
    if (frame.function.empty() || is_plumbing_frame(frame.function)) continue;  // unnamed: an address, not stable
    if (kept == kSignatureFrames) break;  // an inline frame belongs to the next out-of-line frame
    if (!frame.inlined) ++kept;
    signature.frames.push_back({normalized_function(frame.function), frame.module, frame.inlined});
  }
  auto first = std::find_if(signature.frames.begin(), signature.frames.end(),
                            [](const SignatureFrame& f) { return !f.inlined; });
  if (first != signature.frames.end()) signature.module = first->module;
  std::string canonical = fmt::format("{}\n{}\n", signature.kind, signature.module);
  for (const SignatureFrame& frame : signature.frames)
    if (!frame.inlined) canonical += frame.function + '\n';
  signature.hash = fmt::format("{:016x}", fnv1a(canonical));
  signature.title = headline(kind, panic_line);
  if (first != signature.frames.end()) signature.title += " in " + first->function;
  return signature;
}

std::vector<SignatureFrame> console_trace(const std::vector<linux_kernel::LogRecord>& log,
                                          std::string_view panic_line) {
  const std::vector<std::string_view> lines = log_lines(log);
  const size_t from = panic_line_index(lines, panic_line);
  std::vector<SignatureFrame> frames;
  bool in_trace = false;
  std::smatch match;
  for (size_t i = from; i < lines.size() && i < from + kReportLines; ++i) {
    const std::string line(lines[i]);
    if (!in_trace) {
      // The faulting function: x86's kernel-mode RIP ("RIP: 0010:"), arm64's pc.
      for (std::string_view prefix : {"RIP: 0010:", "pc : "}) {
        if (!frames.empty() || !line.starts_with(prefix)) continue;
        std::string rest = " " + line.substr(prefix.size());
        if (std::regex_match(rest, match, frame_pattern())) frames.push_back({match[2], match[3], false});
      }
      if (line.starts_with("Call Trace:") || line.starts_with("Call trace:")) in_trace = true;
      continue;
    }
    if (std::regex_match(line, match, frame_pattern())) {
      if (match[1].matched) continue;  // "?": a stale return address on the stack
      // arm64's trace repeats the faulting function its pc line named.
      if (frames.size() == 1 && frames.front().function == match[2].str() && frames.front().module == match[3].str())
        continue;
      frames.push_back({match[2], match[3], false});
      continue;
    }
    // <TASK>, <IRQ> markers and the user registers printed inside the trace.
    static const std::regex inside(R"(^\s*(<.*>|[A-Z][A-Z0-9_]*: .*)$)");
    if (std::regex_match(line, inside)) continue;
    break;
  }
  return frames;
}

std::optional<uint64_t> fault_address(std::string_view panic_line) {
  for (std::string_view key : {"address: ", "virtual address ", "for address ", "address "}) {
    const size_t at = panic_line.find(key);
    if (at == std::string_view::npos) continue;
    std::string_view digits = panic_line.substr(at + key.size());
    if (digits.starts_with("0x")) digits.remove_prefix(2);
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 16);
    if (ec == std::errc() && end != digits.data()) return value;
  }
  return std::nullopt;
}

std::optional<std::string> first_warning(const std::vector<linux_kernel::LogRecord>& log) {
  for (std::string_view line : log_lines(log))
    if (line.starts_with("WARNING:") || line.starts_with("BUG:")) return std::string(line);
  return std::nullopt;
}

std::optional<ConsoleCrash> console_crash(const std::vector<linux_kernel::LogRecord>& log,
                                          std::string_view panic_line) {
  static const std::regex pattern(R"(^CPU: (\d+) PID: (\d+) Comm: (\S+))");
  const std::vector<std::string_view> lines = log_lines(log);
  const size_t from = panic_line_index(lines, panic_line);
  std::smatch match;
  for (size_t i = from; i < lines.size() && i < from + kReportLines; ++i) {
    const std::string line(lines[i]);
    if (!std::regex_search(line, match, pattern)) continue;
    ConsoleCrash crash;
    const std::string cpu = match[1], pid = match[2];
    std::from_chars(cpu.data(), cpu.data() + cpu.size(), crash.cpu);
    std::from_chars(pid.data(), pid.data() + pid.size(), crash.pid);
    crash.comm = match[3];
    return crash;
  }
  return std::nullopt;
}

}  // namespace coroner::frontends::triage
