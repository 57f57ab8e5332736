#include "analyzer/frontends/triage/triage_report.hpp"

#include "analyzer/arch/arch.hpp"
#include "analyzer/arch/kernel_memory.hpp"
#include "analyzer/os/linux/kernel_taint.hpp"
#include "analyzer/os/linux/memory_summary.hpp"
#include "analyzer/os/linux/panic_message.hpp"
#include "analyzer/os/linux/printk_vmcoreinfo.hpp"
#include "analyzer/os/linux/run_queues.hpp"
#include "analyzer/os/linux/slab_caches.hpp"
#include "analyzer/os/linux/system_info.hpp"
#include "analyzer/os/linux/task_registers.hpp"
#include "analyzer/os/linux/task_state.hpp"
#include "analyzer/os/linux/tasks.hpp"
#include "commands/disassembly.hpp"
#include "commands/stack_format.hpp"
#include "commands/task_selection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace coroner::frontends::triage {

namespace {

// struct module.taints bits with their letters (the kernel's TAINT_* bits,
// the same letters as the kernel's taint flags; those a module can carry).
constexpr std::pair<unsigned, char> kModuleTaints[] = {{0, 'P'}, {1, 'F'}, {10, 'C'}, {12, 'O'},
                                                       {13, 'E'}, {15, 'K'}, {16, 'X'}, {18, 'N'}};

// The log's context: its last kLogTailLines records (with time stamps),
// and its first WARNING:/BUG: line.
void add_log_context(TriageReport& report, const std::vector<linux_kernel::LogRecord>& log) {
  for (size_t i = log.size() > kLogTailLines ? log.size() - kLogTailLines : 0; i < log.size(); ++i)
    report.log_tail.push_back(linux_kernel::format_log_text(linux_kernel::log_timestamp(log[i]), log[i]));
  report.first_warning = first_warning(log);
}

// The verdict's log part: panic line, kind, fault address, the signature
// from the console's trace (replaced by the unwound stack's when there is
// one).
void add_verdict_from_log(TriageReport& report, const std::vector<linux_kernel::LogRecord>& log) {
  report.panic_line = linux_kernel::find_panic_message(log).value_or("");
  report.kind = crash_kind(report.panic_line, log);
  report.fault_address = fault_address(report.panic_line);
  report.signature = make_signature(report.kind, report.panic_line, console_trace(log, report.panic_line), "console");
  add_log_context(report, log);
}

ReportTask report_task(const Program& program, const linux_kernel::Task& task, bool with_stack) {
  ReportTask out;
  out.pid = task.pid;
  out.comm = task.comm;
  out.task = task.address;
  out.cpu = task.cpu;
  out.state = linux_kernel::state_letters(linux_kernel::task_state_bits(program), task.state);
  if (!with_stack) return out;
  const commands::TaskBacktrace backtrace = commands::backtrace_task(program, task, {});
  out.cpu = backtrace.cpu.value_or(task.cpu);
  if (backtrace.error) out.stack_problem = backtrace.error->message();
  else if (backtrace.trace.stopped) out.stack_problem = backtrace.trace.stopped->message();
  for (const unwind::StackFrame& f : backtrace.trace.frames)
    out.stack.push_back({f.function.empty() ? f.symbol : f.function, f.pc, f.offset, f.module, f.file, f.line,
                         f.inlined});
  return out;
}

std::vector<SignatureFrame> signature_frames(const std::vector<ReportFrame>& stack) {
  std::vector<SignatureFrame> frames;
  for (const ReportFrame& f : stack) frames.push_back({f.function, f.module, f.inlined});
  return frames;
}

void add_crash(TriageReport& report, const Program& program) {
  report.crash_cpu = linux_kernel::crashed_cpu(program);
  auto task = commands::panic_task(program);
  if (!task) {
    report.problems.push_back("crashing task: " + task.error().message());
    return;
  }
  report.crashing_task = report_task(program, *task, true);
  if (!report.crash_cpu) report.crash_cpu = report.crashing_task->cpu;
  // The unwound stack beats the console's: it has inline frames and needs
  // no complete log. A stack the unwinder could not start keeps the log's.
  CrashSignature stack = make_signature(report.kind, report.panic_line,
                                        signature_frames(report.crashing_task->stack), "stack");
  if (!stack.frames.empty()) report.signature = std::move(stack);
  auto states = linux_kernel::cpu_states(program);
  if (!states) return report.problems.push_back("registers: " + states.error().message());
  for (const linux_kernel::CpuState& state : *states) {
    if (state.cpu != *report.crash_cpu || !state.registers) continue;
    const auto& names = program.arch().register_names();
    for (size_t i = 0; i < names.size(); ++i)
      if (auto value = state.registers->get(i)) report.registers.push_back({std::string(names[i]), *value});
  }
}

// The first frame below the plumbing of an exception (oops, BUG) is where
// it faulted: its instruction as `dis` decodes it, its line the frame's.
void add_faulting_instruction(TriageReport& report, const Program& program) {
  if ((report.kind != "oops" && report.kind != "bug") || !report.crashing_task) return;
  const auto& stack = report.crashing_task->stack;
  auto frame = std::find_if(stack.begin(), stack.end(),
                            [](const ReportFrame& f) { return !f.function.empty() && !is_plumbing_frame(f.function); });
  if (frame == stack.end()) return;
  auto decoded = commands::decode_instruction(program, frame->pc);
  if (!decoded) return report.problems.push_back("faulting instruction: " + decoded.error().message());
  report.instruction = FaultingInstruction{frame->pc, decoded->symbol, decoded->text, frame->file, frame->line};
}

void add_taint(TriageReport& report, const Program& program) {
  auto taint = linux_kernel::read_kernel_taint(program);
  if (!taint) return report.problems.push_back("taint: " + taint.error().message());
  report.taint_mask = taint->mask;
  report.taint_letters = taint->letters;
  for (const auto& flag : taint->set) report.taint_names.push_back(flag.name);
}

void add_modules(TriageReport& report, const Program& program) {
  auto modules = program.modules();
  if (!modules) return report.problems.push_back("modules: " + modules.error().message());
  auto taints_offset = program.member_offset("struct module", "taints");
  for (const auto& module : **modules) {
    ReportModule out{module->name, module->base, module->size, "", false, module->object_path()};
    if (taints_offset) {
      if (auto taints = program.memory().read_u64(module->struct_address + *taints_offset))
        for (auto [bit, letter] : kModuleTaints)
          if ((*taints >> bit) & 1) out.flags += letter;
    }
    if (report.crashing_task)
      out.crashing = std::any_of(report.crashing_task->stack.begin(), report.crashing_task->stack.end(),
                                 [&](const ReportFrame& f) { return f.module == module->name; });
    report.modules.push_back(std::move(out));
  }
  for (const Error& e : program.modules_skipped()) report.problems.push_back("modules: " + e.message());
}

void add_check_findings(TriageReport& report, const Program& program) {
  for (const TriageCheck& check : triage_checks()) {
    auto findings = check.run(program);
    if (!findings) {
      report.problems.push_back(fmt::format("check {}: {}", check.name, findings.error().message()));
      continue;
    }
    report.findings.insert(report.findings.end(), findings->begin(), findings->end());
  }
}

void add_tasks(TriageReport& report, const Program& program) {
  auto tasks = linux_kernel::task_list(program);
  if (!tasks) return report.problems.push_back("tasks: " + tasks.error().message());
  const auto& bits = linux_kernel::task_state_bits(program);
  if (report.sections.contains("hung")) {
    std::map<uint32_t, uint64_t> clocks;  // rq->clock of each CPU, read for the first hung task on it
    for (const linux_kernel::Task& task : (*tasks)->tasks) {
      if (linux_kernel::state_letters(bits, task.state) != "UN") continue;
      ReportTask hung = report_task(program, task, true);
      if (!clocks.contains(task.cpu)) {
        auto queues = linux_kernel::run_queues(program, {task.cpu});
        clocks[task.cpu] = queues && !queues->empty() ? queues->front().clock : 0;
      }
      // Waiting since its last arrival on a CPU, by that CPU's clock.
      auto arrival = linux_kernel::last_arrival(program, task.address);
      if (arrival && *arrival && clocks[task.cpu] > *arrival) hung.waiting_ns = clocks[task.cpu] - *arrival;
      report.hung_tasks.push_back(std::move(hung));
    }
  }
  for (const std::string& s : (*tasks)->skipped) report.problems.push_back("tasks: " + s);
  if (!report.sections.contains("active")) return;
  auto states = linux_kernel::cpu_states(program);
  if (!states) return report.problems.push_back("active tasks: " + states.error().message());
  for (const linux_kernel::CpuState& state : *states) {
    if (!state.task) continue;
    auto task = commands::task_at(program, state.task);
    if (!task) {
      report.problems.push_back(fmt::format("active task of CPU {}: {}", state.cpu, task.error().message()));
      continue;
    }
    ReportTask active = report_task(program, *task, true);
    active.cpu = state.cpu;
    report.active_tasks.push_back(std::move(active));
  }
}

void add_memory(TriageReport& report, const Program& program) {
  auto summary = linux_kernel::memory_summary(program);
  if (!summary) return report.problems.push_back("memory: " + summary.error().message());
  MemoryReport memory{summary->page_size, summary->total_ram, summary->free,      summary->cached,
                      summary->slab,      summary->swap_total, summary->swap_used, {}};
  auto caches = linux_kernel::slab_caches(program);
  if (!caches) report.problems.push_back("slab caches: " + caches.error().message());
  else {
    for (const auto& cache : caches->caches)
      if (cache.slabs && cache.allocated && cache.total)
        memory.top_slabs.push_back(
            {cache.name, cache.object_size, *cache.allocated, *cache.total, *cache.slabs * cache.slab_bytes});
    std::stable_sort(memory.top_slabs.begin(), memory.top_slabs.end(),
                     [](const SlabUsage& a, const SlabUsage& b) { return a.bytes > b.bytes; });
    if (memory.top_slabs.size() > kTopSlabs) memory.top_slabs.resize(kTopSlabs);
    for (const Error& e : caches->skipped) report.problems.push_back("slab caches: " + e.message());
  }
  report.memory = std::move(memory);
}

void add_run_queues(TriageReport& report, const Program& program) {
  auto states = linux_kernel::cpu_states(program);
  if (!states) return report.problems.push_back("run queues: " + states.error().message());
  std::vector<uint32_t> cpus;
  for (const auto& state : *states) cpus.push_back(state.cpu);
  auto queues = linux_kernel::run_queues(program, cpus);
  if (!queues) return report.problems.push_back("run queues: " + queues.error().message());
  for (const linux_kernel::RunQueue& queue : *queues) {
    RunQueueLength length{queue.cpu, 0, "", queue.rt.size(), queue.cfs.size(), queue.dl.size()};
    if (auto current = commands::task_at(program, queue.current)) {
      length.current_pid = current->pid;
      length.current_comm = current->comm;
    }
    report.run_queues.push_back(std::move(length));
    for (const Error& e : queue.skipped) report.problems.push_back(fmt::format("run queue {}: {}", queue.cpu, e.message()));
  }
}

}  // namespace

TriageReport build_report(const Program& program, const std::set<std::string>& sections) {
  TriageReport report;
  report.sections = sections;
  report.machine = std::string(program.arch().name());
  report.dump_format = program.dump().description();
  report.build_id = program.vmcoreinfo().build_id();
  auto log = linux_kernel::read_printk_log(linux_kernel::printk_vmcoreinfo(program), program.memory());
  if (log) add_verdict_from_log(report, *log);
  else {
    report.kind = "unknown";
    report.problems.push_back("log: " + log.error().message());
  }
  const linux_kernel::SystemInfo system = linux_kernel::read_system_info(program);
  report.release = system.uts.release;
  report.version = system.uts.version;
  report.nodename = system.uts.nodename;
  report.uptime_seconds = system.uptime_seconds;
  report.crash_time = system.time;
  add_taint(report, program);
  add_crash(report, program);
  add_faulting_instruction(report, program);
  if (sections.contains("modules")) add_modules(report, program);
  if (sections.contains("hung") || sections.contains("active")) add_tasks(report, program);
  if (sections.contains("memory")) add_memory(report, program);
  if (sections.contains("runq")) add_run_queues(report, program);
  if (sections.contains("checks")) add_check_findings(report, program);
  return report;
}

Expected<TriageReport> build_report_without_vmlinux(const std::vector<std::string>& dumps,
                                                    const std::set<std::string>& sections) {
  CORONER_TRY(dump, open_dump(dumps));
  if (dump->format_name() == "freebsd-minidump")
    return make_error(Errc::unsupported, "{}: a FreeBSD minidump: triage reads Linux kernels only; coroner {} answers "
                                         "sys, log, rd, vtop and search",
                      dumps.front(), dumps.front());
  auto text = dump->vmcoreinfo_text();
  if (!text || text->empty())
    return make_error(Errc::unsupported, "{}: the dump has no VMCOREINFO: without it a report needs the vmlinux",
                      dumps.front());
  const VmcoreInfo info = VmcoreInfo::parse(*text);
  CORONER_TRY(arch, arch::make_arch(dump->machine(), info));
  const KernelMemory memory(*dump, *arch);
  TriageReport report;
  report.with_vmlinux = false;
  report.sections = sections;
  report.machine = std::string(arch->name());
  report.dump_format = dump->description();
  report.release = std::string(info.get("OSRELEASE").value_or(""));
  report.build_id = info.build_id();
  if (auto crash_time = info.number("CRASHTIME")) report.crash_time = *crash_time;
  auto log = linux_kernel::read_printk_log(info, memory);
  if (log) {
    add_verdict_from_log(report, *log);
    if (!log->empty()) report.uptime_seconds = log->back().ts_nsec / 1000000000;  // the last record's time stamp
    if (auto crash = console_crash(*log, report.panic_line)) {
      report.crash_cpu = crash->cpu;
      report.crashing_task = ReportTask{crash->pid, crash->comm, 0, crash->cpu, "", {}, {}, {}};
    }
  } else {
    report.kind = "unknown";
    report.problems.push_back("log: " + log.error().message());
  }
  report.missing = {
      "without the kernel's vmlinux (with debug info) the report has no unwound stacks, source lines, registers, "
      "modules, tasks, memory or run queues, and the signature comes from the console's call trace",
      fmt::format("install the debug kernel of release {} (Debian: linux-image-{}-dbg; Fedora/RHEL: debuginfo-install "
                  "kernel-{}) or give its vmlinux: coroner triage VMLINUX DUMP",
                  report.release, report.release, report.release)};
  return report;
}

}  // namespace coroner::frontends::triage
