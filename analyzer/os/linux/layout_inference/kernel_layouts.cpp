#include "analyzer/os/linux/layout_inference/kernel_layouts.hpp"

#include "analyzer/kernel_data_symbols.hpp"
#include "analyzer/os/linux/layout_inference/mm_layout_inference.hpp"
#include "analyzer/os/linux/layout_inference/module_layout_inference.hpp"
#include "analyzer/os/linux/layout_inference/task_layout_inference.hpp"

#include <algorithm>

namespace coroner::linux_kernel::inference {

namespace {

using symbols::SyntheticMember;
using symbols::SyntheticStruct;

constexpr uint64_t kUtsLength = 65;  // __NEW_UTS_LEN + 1
constexpr uint64_t kMaxUptime = 1ull << 32;

uint64_t end_of(const std::vector<SyntheticMember>& members, uint64_t last_size) {
  uint64_t end = 0;
  for (const SyntheticMember& m : members) end = std::max(end, m.offset + last_size);
  return end;
}

std::vector<SyntheticStruct> basic_layouts(const MemoryProbe& probe) {
  std::vector<SyntheticStruct> layouts = {
      {"list_head", 16, {{"next", 0, "struct list_head *"}, {"prev", 8, "struct list_head *"}}},
      {"atomic_t", 4, {{"counter", 0, "int"}}, true},
      {"atomic64_t", 8, {{"counter", 0, "s64"}}, true},
      {"atomic_long_t", 8, {{"counter", 0, "long"}}, true},
  };
  const uint64_t words = (probe.cpus().back() + 64) / 64;
  layouts.push_back({"cpumask", 8 * words, {{"bits", 0, fmt::format("unsigned long[{}]", words)}}});
  return layouts;
}

// struct uts_namespace: the name first (5.11+), or after a 4-byte kref.
std::vector<SyntheticStruct> uts_layouts(const MemoryProbe& probe) {
  std::optional<uint64_t> name = probe.program().vmcoreinfo().offset("uts_namespace.name");
  if (auto ns = probe.symbol("init_uts_ns"); !name && ns)
    for (uint64_t at : {0, 4})
      if (probe.text(*ns + at, kUtsLength) == "Linux") name = at;
  if (!name) return {};
  std::vector<SyntheticMember> fields;
  for (const char* field : {"sysname", "nodename", "release", "version", "machine", "domainname"})
    fields.push_back({field, fields.size() * kUtsLength, fmt::format("char[{}]", kUtsLength)});
  return {{"new_utsname", 6 * kUtsLength, fields},
          {"uts_namespace", *name + 6 * kUtsLength, {{"name", *name, "struct new_utsname"}}}};
}

// struct pglist_data from VMCOREINFO: node_present_pages sits between
// node_start_pfn and node_spanned_pages (2.6 to 6.x).
std::vector<SyntheticStruct> node_layouts(const Program& program) {
  const VmcoreInfo& info = program.vmcoreinfo();
  auto size = info.size("pglist_data");
  auto spanned = info.offset("pglist_data.node_spanned_pages");
  if (!size || !spanned || *spanned < 8) return {};
  SyntheticStruct pgdat{
      "pglist_data",
      *size,
      {{"node_present_pages", *spanned - 8, "unsigned long"}, {"node_spanned_pages", *spanned, "unsigned long"}}};
  if (auto start = info.offset("pglist_data.node_start_pfn"))
    pgdat.members.push_back({"node_start_pfn", *start, "unsigned long"});
  if (auto id = info.offset("pglist_data.node_id")) pgdat.members.push_back({"node_id", *id, "int"});
  return {pgdat};
}

// struct timekeeper: xtime_sec (wall-clock seconds), ktime_sec (seconds
// since boot), then wall_to_monotonic, whose seconds added to xtime_sec
// give ktime_sec.
std::vector<SyntheticStruct> timekeeper_layouts(const MemoryProbe& probe) {
  auto tk = probe.symbol("shadow_timekeeper");
  if (!tk) return {};
  const Snapshot image = probe.snapshot(*tk, 512);
  for (uint64_t at = 0; at + 32 <= image.size(); at += 8) {
    const auto xtime = static_cast<int64_t>(image.u64(at));
    const uint64_t ktime = image.u64(at + 8);
    const auto wtm = static_cast<int64_t>(image.u64(at + 16));
    if (!plausible_wall_clock(xtime) || ktime > kMaxUptime) continue;
    const int64_t monotonic = xtime + wtm;
    if (monotonic + 1 < static_cast<int64_t>(ktime) || monotonic > static_cast<int64_t>(ktime) + 1) continue;
    return {{"timespec64", 16, {{"tv_sec", 0, "s64"}, {"tv_nsec", 8, "long"}}},
            {"timekeeper",
             at + 32,
             {{"xtime_sec", at, "u64"},
              {"ktime_sec", at + 8, "unsigned long"},
              {"wall_to_monotonic", at + 16, "struct timespec64"}}}};
  }
  return {};
}

std::vector<SyntheticStruct> task_layouts(const TaskOffsets& o, Machine machine) {
  std::vector<SyntheticMember> members = {
      {"cpu", o.cpu, "unsigned int"},
      {"__state", o.state, "unsigned int"},
      {"stack", o.stack, "void *"},
      {"flags", o.flags, "unsigned int"},
      {"tasks", o.tasks, "struct list_head"},
      {"mm", o.mm, "struct mm_struct *"},
      {"active_mm", o.mm + 8, "struct mm_struct *"},
      {"exit_state", o.exit_state, "int"},
      {"exit_code", o.exit_state + 4, "int"},
      {"exit_signal", o.exit_state + 8, "int"},
      {"pdeath_signal", o.exit_state + 12, "int"},
      {"pid", o.pid, "pid_t"},
      {"tgid", o.pid + 4, "pid_t"},
      {"real_parent", o.real_parent, "struct task_struct *"},
      {"parent", o.real_parent + 8, "struct task_struct *"},
      {"children", o.real_parent + 16, "struct list_head"},
      {"sibling", o.real_parent + 32, "struct list_head"},
      {"group_leader", o.group_leader, "struct task_struct *"},
      {"thread_node", o.thread_node, "struct list_head"},
      {"signal", o.signal, "struct signal_struct *"},
      {"comm", o.comm, "char[16]"},
  };
  std::vector<SyntheticStruct> layouts = {
      {"signal_struct", o.thread_head + 16, {{"thread_head", o.thread_head, "struct list_head"}}},
      {"rq", o.rq_idle + 8, {{"curr", o.rq_curr, "struct task_struct *"}, {"idle", o.rq_idle, "struct task_struct *"}}},
  };
  if (o.rss_stat) {
    members.push_back({"rss_stat", *o.rss_stat, "struct task_rss_stat"});
    layouts.push_back({"task_rss_stat", 20, {{"events", 0, "int"}, {"count", 4, "int[4]"}}});
  }
  uint64_t thread_size = 8;
  if (machine == Machine::x86_64 && o.thread_sp && o.frame_return) {
    members.push_back({"thread", *o.thread_sp, "struct thread_struct"});
    layouts.push_back({"thread_struct", 8, {{"sp", 0, "unsigned long"}}});
    std::vector<SyntheticMember> frame = {{"ret_addr", *o.frame_return, "unsigned long"}};
    const char* below[] = {"bp", "bx", "r12", "r13", "r14", "r15"};
    for (uint64_t i = 0; i < std::size(below) && 8 * (i + 1) <= *o.frame_return; ++i)
      frame.push_back({below[i], *o.frame_return - 8 * (i + 1), "unsigned long"});
    layouts.push_back({"inactive_task_frame", *o.frame_return + 8, frame});
  } else if (machine == Machine::aarch64 && o.cpu_context) {
    std::vector<SyntheticMember> context;
    for (int i = 19; i <= 28; ++i) context.push_back({fmt::format("x{}", i), 8ull * (i - 19), "unsigned long"});
    for (const char* reg : {"fp", "sp", "pc"}) context.push_back({reg, 8 * context.size(), "unsigned long"});
    thread_size = 8 * context.size();
    members.push_back({"thread", *o.cpu_context, "struct thread_struct"});
    layouts.push_back({"cpu_context", thread_size, context});
    layouts.push_back({"thread_struct", thread_size, {{"cpu_context", 0, "struct cpu_context"}}});
  }
  layouts.push_back({"task_struct", end_of(members, thread_size), members});
  return layouts;
}

template <typename T>
void append(std::vector<T>& to, std::vector<T> more) {
  to.insert(to.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

}  // namespace

InferredLayouts infer_kernel_layouts(const Program& program) {
  const MemoryProbe probe(program);
  InferredLayouts inferred{basic_layouts(probe), {}};
  std::vector<SyntheticStruct>& layouts = inferred.layouts;
  append(layouts, uts_layouts(probe));
  append(layouts, node_layouts(program));
  append(layouts, timekeeper_layouts(probe));
  // What cannot be found is left out: the commands that read it say so.
  if (auto tasks = infer_task_offsets(probe)) {
    append(layouts, task_layouts(*tasks, program.arch().machine()));
    if (auto mm = infer_mm_layouts(probe, tasks->user_tasks, tasks->mm)) append(layouts, std::move(*mm));
  } else {
    inferred.missing.push_back("task_struct: " + tasks.error().message());
  }
  if (auto modules = infer_module_layouts(probe)) append(layouts, std::move(*modules));
  else inferred.missing.push_back("module: " + modules.error().message());
  return inferred;
}

}  // namespace coroner::linux_kernel::inference
