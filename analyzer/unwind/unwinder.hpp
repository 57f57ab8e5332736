// The per-architecture step from a frame to its caller (after libdrgn's
// arch_info unwind hooks). x86_64: ORC, then DWARF CFI; arm64: DWARF CFI,
// then frame pointers. Both detect pt_regs frames at kernel entry.
// Without the vmlinux file only the dump's own unwind information is used:
// x86_64 reads vmlinux's ORC tables out of the dump's memory, arm64 follows
// the frame records alone (docs/architecture.md).
#pragma once

#include "analyzer/program.hpp"
#include "analyzer/unwind/frame.hpp"

#include <memory>
#include <optional>

namespace coroner::unwind {

class ArchUnwinder {
 public:
  virtual ~ArchUnwinder() = default;
  // The caller of `frame`; nullopt at the end of the stack (a user-mode
  // frame was reached, or the unwind tables mark the end). An error when the
  // caller cannot be found (no unwind info for the pc, unreadable stack):
  // the trace shows what it has and the reason, never a guessed frame.
  virtual Expected<std::optional<PhysicalFrame>> caller(const PhysicalFrame& frame) const = 0;

  // Where a debugger that unwinds by DWARF CFI alone (gdb, LLDB) can start
  // on a stack that begins at `start`: nullopt when it can start there.
  // Otherwise the first caller it can unwind from, with its sp exact (a
  // frame found through a frame record knows sp only as a bound). arm64: a
  // CPU stopped in the exception vectors, which have no CFI and whose
  // interrupted pc (ELR_EL1) no dump keeps.
  virtual Expected<std::optional<PhysicalFrame>> debugger_start(const PhysicalFrame& start) const {
    (void)start;
    return std::optional<PhysicalFrame>();
  }
};

// Where vmlinux's unwind information comes from. Modules' always come from
// the dump (x86_64's ORC) or their attached .ko (DWARF CFI).
enum class UnwindSource {
  vmlinux_file,  // the vmlinux ELF file: its ORC sections, its .debug_frame
  dump,          // the dump alone: x86_64 vmlinux's ORC from memory; arm64 frame records
};

// The source for program: the dump when it was opened without a vmlinux
// file (Program::vmlinux_path() empty). A vmlinux without DWARF still has
// its ORC sections; one without .debug_frame falls back to frame records.
UnwindSource unwind_source(const Program& program);

// The unwinder of program's architecture, reading unwind_source(program).
// Tables (vmlinux's ORC and CFI, modules') are read on first use and kept.
std::unique_ptr<ArchUnwinder> make_unwinder(const Program& program);
// The program's unwinder, made once and kept with the program (commands
// share it, so tables are read once per session).
const ArchUnwinder& unwinder_of(const Program& program);

// Per architecture (analyzer/unwind/x86_64/, analyzer/unwind/aarch64/); tests
// force a source to compare the routes on one dump.
std::unique_ptr<ArchUnwinder> make_x86_64_unwinder(const Program& program, UnwindSource source);
std::unique_ptr<ArchUnwinder> make_aarch64_unwinder(const Program& program, UnwindSource source);

}  // namespace coroner::unwind
