// A task's backtrace as bt shows it: the unwound trace (one unwinder per
// program, shared by every command), rendered like crash's bt -- frame lines,
// exception frames with their registers, the user-mode registers at the
// syscall boundary, optional frame memory and source lines -- or as JSON.
#pragma once

#include "analyzer/os/linux/tasks.hpp"
#include "analyzer/unwind/stack_trace.hpp"

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <optional>
#include <vector>

namespace coroner::commands {

struct BacktraceOptions {
  bool frame_data = false;      // -f: each frame's stack words
  bool symbolic_data = false;   // -F: the same, symbol+offset where a word is a symbol's address
  bool lines = false;           // -l: file and line of each frame
  bool symbol_offsets = false;  // -s: function+offset
  bool hex_offsets = false;     // -x: those offsets in hex
  bool variables = false;       // -v: each frame's parameters and local variables
  // Each frame's file and line are found (JSON, the triage report) unless
  // the output shows none: plain text without -l then reads no line table.
  bool find_lines = true;
  // -t / -T: instead of a trace, the text addresses found on the stack from
  // the first frame's sp (-t) or from the stack's bottom (-T) to its top.
  enum class Scan { none, from_sp, from_bottom } scan = Scan::none;
};

// Text addresses found by scanning a stack (bt -t/-T): possibly stale.
struct StackScanHit {
  uint64_t address = 0;  // where on the stack
  uint64_t value = 0;    // the text address found there
  SymbolicAddress symbol;
};

struct StackScan {
  uint64_t from = 0, to = 0;  // the scanned range [from, to)
  std::vector<StackScanHit> hits;
};

struct TaskBacktrace {
  linux_kernel::Task task;
  std::optional<uint32_t> cpu;   // the CPU it ran on last (or runs on)
  std::optional<Error> error;    // no start registers: the trace is empty
  unwind::StackTrace trace;
  std::optional<Expected<StackScan>> scan;  // -t/-T
};

// Unwinds `task` (its CPU's saved registers if it was running, else its
// switched-out ones). Never fails: a problem is recorded in `error` or in
// trace.stopped. `cpu` overrides the task's own CPU field (bt -a).
TaskBacktrace backtrace_task(const Program& program, const linux_kernel::Task& task, const BacktraceOptions& options,
                             std::optional<uint32_t> cpu = std::nullopt);

// crash-style text, ending with a newline.
void print_backtrace(std::ostream& out, const Program& program, const TaskBacktrace& backtrace,
                     const BacktraceOptions& options);

// {"pid","task","cpu","command","frames":[...],"stopped"} (and "scan" for -t/-T;
// -v: each frame's "variables": [{"name","kind","type","value","problem"}]).
nlohmann::json backtrace_json(const Program& program, const TaskBacktrace& backtrace, const BacktraceOptions& options);

}  // namespace coroner::commands
