// The report as JSON (docs/triage-schema.json describes every field).
#include "analyzer/frontends/triage/triage_render.hpp"

#include <fmt/format.h>

namespace coroner::frontends::triage {

namespace {

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

nlohmann::json frame_json(const ReportFrame& f) {
  nlohmann::json out = {{"function", f.function}, {"pc", hex(f.pc)},   {"offset", f.offset},
                        {"module", f.module},     {"file", f.file},    {"line", f.line},
                        {"inlined", f.inlined}};
  return out;
}

nlohmann::json task_json(const ReportTask& t) {
  nlohmann::json stack = nlohmann::json::array();
  for (const ReportFrame& f : t.stack) stack.push_back(frame_json(f));
  nlohmann::json out = {{"pid", t.pid}, {"comm", t.comm}, {"task", hex(t.task)}, {"cpu", t.cpu},
                        {"state", t.state}, {"stack", stack}};
  if (t.waiting_ns) out["waiting_ns"] = *t.waiting_ns;
  if (t.stack_problem) out["stack_problem"] = *t.stack_problem;
  return out;
}

template <typename T>
nlohmann::json optional_json(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

}  // namespace

nlohmann::json report_json(const TriageReport& r) {
  nlohmann::json signature_frames = nlohmann::json::array();
  for (const SignatureFrame& f : r.signature.frames)
    signature_frames.push_back({{"function", f.function}, {"module", f.module}, {"inlined", f.inlined}});
  nlohmann::json registers = nlohmann::json::object();
  for (const Register& reg : r.registers) registers[reg.name] = hex(reg.value);
  nlohmann::json verdict = {
      {"kind", r.kind},
      {"title", r.signature.title},
      {"panic_line", r.panic_line},
      {"fault_address", r.fault_address ? nlohmann::json(hex(*r.fault_address)) : nlohmann::json()},
      {"taint", {{"mask", r.taint_mask}, {"letters", r.taint_letters}, {"flags", r.taint_names}}},
      {"crash_cpu", optional_json(r.crash_cpu)},
      {"crashing_task", r.crashing_task ? task_json(*r.crashing_task) : nlohmann::json()},
      {"instruction", r.instruction ? nlohmann::json{{"address", hex(r.instruction->address)},
                                                     {"symbol", r.instruction->symbol},
                                                     {"text", r.instruction->text},
                                                     {"file", r.instruction->file},
                                                     {"line", r.instruction->line}}
                                    : nlohmann::json()},
      {"registers", registers}};
  nlohmann::json out = {
      {"format", "coroner-triage/1"},
      {"with_vmlinux", r.with_vmlinux},
      {"missing", r.missing},
      {"verdict", verdict},
      {"signature",
       {{"hash", r.signature.hash},
        {"kind", r.signature.kind},
        {"module", r.signature.module},
        {"title", r.signature.title},
        {"source", r.signature.source},
        {"frames", signature_frames}}},
      {"system",
       {{"release", r.release},
        {"version", r.version},
        {"machine", r.machine},
        {"nodename", r.nodename},
        {"dump_format", r.dump_format},
        {"build_id", r.build_id},
        {"uptime_seconds", optional_json(r.uptime_seconds)},
        {"crash_time", optional_json(r.crash_time)}}},
      {"problems", r.problems}};
  if (r.sections.contains("log"))
    out["log"] = {{"tail", r.log_tail}, {"first_warning", optional_json(r.first_warning)}};
  if (r.sections.contains("modules") && r.with_vmlinux) {
    nlohmann::json modules = nlohmann::json::array();
    for (const ReportModule& m : r.modules)
      modules.push_back({{"name", m.name}, {"base", hex(m.base)}, {"size", m.size}, {"flags", m.flags},
                         {"crashing", m.crashing}, {"object", m.object}});
    out["modules"] = modules;
  }
  if (r.sections.contains("hung") && r.with_vmlinux) {
    out["hung_tasks"] = nlohmann::json::array();
    for (const ReportTask& t : r.hung_tasks) out["hung_tasks"].push_back(task_json(t));
  }
  if (r.sections.contains("active") && r.with_vmlinux) {
    out["active_tasks"] = nlohmann::json::array();
    for (const ReportTask& t : r.active_tasks) out["active_tasks"].push_back(task_json(t));
  }
  if (r.memory) {
    nlohmann::json slabs = nlohmann::json::array();
    for (const SlabUsage& s : r.memory->top_slabs)
      slabs.push_back({{"name", s.name}, {"object_size", s.object_size}, {"allocated", s.allocated},
                       {"total", s.total}, {"bytes", s.bytes}});
    const MemoryReport& m = *r.memory;
    out["memory"] = {{"page_size", m.page_size}, {"total_pages", m.total_ram}, {"free_pages", m.free},
                     {"cached_pages", m.cached}, {"slab_pages", m.slab},       {"swap_total_pages", m.swap_total},
                     {"swap_used_pages", m.swap_used}, {"top_slab_caches", slabs}};
  }
  if (r.sections.contains("runq") && r.with_vmlinux) {
    out["run_queues"] = nlohmann::json::array();
    for (const RunQueueLength& q : r.run_queues)
      out["run_queues"].push_back({{"cpu", q.cpu}, {"current_pid", q.current_pid}, {"current_comm", q.current_comm},
                                   {"rt", q.rt}, {"cfs", q.cfs}, {"dl", q.dl}});
  }
  if (r.sections.contains("checks") && r.with_vmlinux) {
    out["checks"] = nlohmann::json::array();
    for (const CheckFinding& f : r.findings)
      out["checks"].push_back({{"check", f.check}, {"severity", f.severity}, {"summary", f.summary}, {"details", f.details}});
  }
  return out;
}

}  // namespace coroner::frontends::triage
