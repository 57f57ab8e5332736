// The triage report: what a support engineer reads first about a dump --
// the verdict (what crashed, where, which module), its signature, and the
// context (log, modules, hung and running tasks, memory, run queues). Built
// once from the kernel model (tasks, printk, the unwinder, modules, kmem,
// runq) and rendered by triage_render.hpp as text, markdown, JSON or HTML.
// Every part is best effort: what cannot be read is named in `problems` and
// the rest of the report still comes out.
#pragma once

#include "analyzer/frontends/triage/crash_signature.hpp"
#include "analyzer/frontends/triage/triage_checks.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace coroner {
class Program;
}

namespace coroner::frontends::triage {

// The parts of a report --sections selects; the verdict and the signature
// are always there.
inline const std::vector<std::string>& section_names() {
  static const std::vector<std::string> names = {"backtrace", "registers", "log",    "modules",
                                                 "hung",      "active",    "memory", "runq", "checks"};
  return names;
}

struct ReportFrame {
  std::string function;  // "" when unknown
  uint64_t pc = 0;
  uint64_t offset = 0;
  std::string module;    // "" for vmlinux
  std::string file;
  uint32_t line = 0;
  bool inlined = false;
};

struct ReportTask {
  int64_t pid = 0;
  std::string comm;
  uint64_t task = 0;  // struct task_struct *
  uint32_t cpu = 0;
  std::string state;  // crash's ps letters: RU, IN, UN, ...
  std::optional<uint64_t> waiting_ns;  // D state: since its last run (sched_info.last_arrival)
  std::vector<ReportFrame> stack;      // innermost first
  std::optional<std::string> stack_problem;
};

struct ReportModule {
  std::string name;
  uint64_t base = 0, size = 0;
  std::string flags;      // the module's taint letters: P proprietary, O out of tree, E unsigned, C staging, ...
  bool crashing = false;  // owns a frame of the crashing stack
  std::string object;     // the .ko found for it, "" when none
};

struct SlabUsage {
  std::string name;
  uint64_t object_size = 0, allocated = 0, total = 0, bytes = 0;  // bytes: slabs * slab size
};

struct MemoryReport {
  uint64_t page_size = 0, total_ram = 0, free = 0, cached = 0, slab = 0, swap_total = 0, swap_used = 0;  // pages
  std::vector<SlabUsage> top_slabs;  // the largest caches by bytes
};

struct RunQueueLength {
  uint32_t cpu = 0;
  int64_t current_pid = 0;
  std::string current_comm;
  size_t rt = 0, cfs = 0, dl = 0;
};

// The instruction that faulted (oops, BUG), as `dis -l` shows it.
struct FaultingInstruction {
  uint64_t address = 0;
  std::string symbol;  // "<fx_crash_level3+65>"
  std::string text;    // "movl   $0x42,0"
  std::string file;
  uint32_t line = 0;
};

struct Register {
  std::string name;
  uint64_t value = 0;
};

struct TriageReport {
  bool with_vmlinux = true;
  std::vector<std::string> missing;  // what a report without vmlinux lacks and how to get it
  // The verdict.
  std::string kind;                      // crash_kind()
  std::string panic_line;                // "" when the log says nothing
  std::optional<uint64_t> fault_address;
  uint64_t taint_mask = 0;
  std::string taint_letters;
  std::vector<std::string> taint_names;  // TAINT_OOT_MODULE, ...
  std::optional<uint32_t> crash_cpu;
  std::optional<ReportTask> crashing_task;
  std::optional<FaultingInstruction> instruction;
  std::vector<Register> registers;       // the crashing CPU's, as the dump saved them
  CrashSignature signature;
  // The system.
  std::string release, version, machine, nodename, dump_format;
  std::string build_id;  // VMCOREINFO's BUILD-ID (lower-case hex), "" when absent
  std::optional<uint64_t> uptime_seconds;
  std::optional<int64_t> crash_time;
  // The context.
  std::vector<std::string> log_tail;       // the last lines up to the crash report's end
  std::optional<std::string> first_warning;  // the first WARNING:/BUG: line of the log
  std::vector<ReportModule> modules;
  std::vector<ReportTask> hung_tasks;       // D state
  std::vector<ReportTask> active_tasks;     // each CPU's running task
  std::optional<MemoryReport> memory;
  std::vector<RunQueueLength> run_queues;
  std::vector<CheckFinding> findings;       // the plugins' triage checks
  std::set<std::string> sections;           // the sections asked for
  std::vector<std::string> problems;        // "modules: ...": what could not be read
};

inline constexpr size_t kLogTailLines = 40;
inline constexpr size_t kTopSlabs = 10;

// The report of an opened dump with its vmlinux.
TriageReport build_report(const Program& program, const std::set<std::string>& sections);

// The report of a dump opened without vmlinux: what VMCOREINFO and the log
// give. An error only when the dump cannot be opened or has no VMCOREINFO.
Expected<TriageReport> build_report_without_vmlinux(const std::vector<std::string>& dumps,
                                                    const std::set<std::string>& sections);

}  // namespace coroner::frontends::triage
