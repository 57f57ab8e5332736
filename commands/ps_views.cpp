#include "commands/ps_views.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/task_state.hpp"
#include "commands/member_selection.hpp"
#include "commands/task_selection.hpp"

#include <algorithm>
#include <array>
#include <unordered_map>
#include <unordered_set>

namespace coroner::commands {

namespace {

constexpr size_t kMaxParents = 4096;            // a parent chain longer than this loops
constexpr uint64_t kMaxArgumentBytes = 1 << 20;  // far above ARG_MAX's usual 128 KiB per string set
constexpr uint64_t kNanosecondsPerSecond = 1000000000;

// crash's names of the RLIMIT_* indices.
constexpr std::array<std::string_view, 16> kRlimitNames = {
    "CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK", "AS", "LOCKS", "SIGPENDING",
    "MSGQUEUE", "NICE", "RTPRIO", "RTTIME"};

// Text of `width` columns with `text` centered; an odd space goes right
// (crash's CENTER|LJUST) or left (CENTER|RJUST).
std::string centered(std::string_view text, size_t width, bool extra_left) {
  size_t pad = width > text.size() ? width - text.size() : 0;
  size_t left = extra_left ? pad - pad / 2 : pad / 2;
  return std::string(left, ' ') + std::string(text) + std::string(pad - left, ' ');
}

const linux_kernel::Task* find_by_address(const linux_kernel::TaskList& list, uint64_t address) {
  for (const linux_kernel::Task& t : list.tasks)
    if (t.address == address) return &t;
  return nullptr;
}

// "hh:mm:ss", with "N days, " in front past a day (crash's convert_time).
std::string duration(uint64_t seconds) {
  uint64_t days = seconds / 86400, rest = seconds % 86400;
  std::string clock = fmt::format("{:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
  return days ? fmt::format("{} days, {}", days, clock) : clock;
}

// The newest runqueue clock of any CPU: nanoseconds since boot at the crash.
Expected<uint64_t> latest_clock(const Program& program) {
  CORONER_TRY(runqueues, find_global(program, "runqueues"));
  CORONER_TRY(cpus, possible_cpus(program));
  uint64_t latest = 0;
  for (uint32_t cpu : cpus) {
    CORONER_TRY(rq, per_cpu(runqueues, cpu));
    CORONER_TRY(clock, rq.member("clock"));
    CORONER_TRY(value, clock.read_unsigned());
    latest = std::max(latest, value);
  }
  return latest;
}

Expected<Object> task_object(const Program& program, uint64_t address) {
  CORONER_TRY(type, find_named_type(program, "task_struct"));
  return Object::reference(program, *type.graph, type.type, address);
}

Expected<uint64_t> unsigned_member(const Object& object, std::string_view path) {
  CORONER_TRY(member, object.member(path));
  return member.read_unsigned();
}

}  // namespace

void show_parents(const linux_kernel::TaskList& list, const TaskRefs& tasks, PsViewOutput& out) {
  for (const linux_kernel::Task* task : tasks) {
    std::vector<const linux_kernel::Task*> chain{task};
    std::unordered_set<uint64_t> seen{task->address};
    for (const linux_kernel::Task* t = task; chain.size() < kMaxParents;) {
      const linux_kernel::Task* parent = find_by_address(list, t->parent);
      if (!parent || !seen.insert(parent->address).second) break;
      chain.push_back(parent);
      t = parent;
    }
    nlohmann::json parents = nlohmann::json::array();
    for (size_t i = chain.size(), depth = 0; i-- > 0; ++depth) {
      out.text += std::string(depth, ' ') + task_header(*chain[i]) + '\n';
      parents.push_back(task_header_json(*chain[i]));
    }
    out.text += '\n';
    out.json.push_back({{"task", task_header_json(*task)}, {"parents", parents}});
  }
}

void show_children(const linux_kernel::TaskList& list, const TaskRefs& tasks, PsViewOutput& out) {
  for (const linux_kernel::Task* task : tasks) {
    out.text += task_header(*task) + '\n';
    nlohmann::json children = nlohmann::json::array();
    for (const linux_kernel::Task& t : list.tasks) {
      if (t.parent != task->address || t.address == task->address) continue;
      out.text += "  " + task_header(t) + '\n';
      children.push_back(task_header_json(t));
    }
    if (children.empty()) out.text += "  (no children)\n";
    out.text += '\n';
    out.json.push_back({{"task", task_header_json(*task)}, {"children", children}});
  }
}

void show_thread_groups(const linux_kernel::TaskList& list, const TaskRefs& tasks, PsViewOutput& out) {
  for (const linux_kernel::Task* leader : tasks) {
    out.text += task_header(*leader) + '\n';
    nlohmann::json threads = nlohmann::json::array();
    for (const linux_kernel::Task& t : list.tasks) {
      if (t.tgid != leader->tgid || t.address == leader->address) continue;
      out.text += "  " + task_header(t) + '\n';
      threads.push_back(task_header_json(t));
    }
    if (threads.empty()) out.text += "  (no threads)\n";
    out.text += '\n';
    out.json.push_back({{"task", task_header_json(*leader)}, {"threads", threads}});
  }
}

Expected<void> show_times(const Program& program, const TaskRefs& tasks, PsViewOutput& out) {
  CORONER_TRY(now, latest_clock(program));
  struct Times {
    const linux_kernel::Task* task;
    uint64_t start, utime, stime;
  };
  std::vector<Times> times;
  for (const linux_kernel::Task* task : tasks) {
    CORONER_TRY(object, task_object(program, task->address));
    // start_time: nanoseconds of the monotonic clock since 3.17; utime and
    // stime: nanoseconds since 4.11 (cputime_t before).
    CORONER_TRY(start, unsigned_member(object, "start_time"));
    CORONER_TRY(utime, unsigned_member(object, "utime"));
    CORONER_TRY(stime, unsigned_member(object, "stime"));
    times.push_back({task, start, utime, stime});
  }
  std::stable_sort(times.begin(), times.end(), [](const Times& a, const Times& b) { return a.start < b.start; });
  for (const Times& t : times) {
    uint64_t run = now / kNanosecondsPerSecond - std::min(now, t.start) / kNanosecondsPerSecond;
    out.text += task_header(*t.task) + '\n';
    out.text += fmt::format("    RUN TIME: {}\n  START TIME: {}\n       UTIME: {}\n       STIME: {}\n\n", duration(run),
                            t.start, t.utime, t.stime);
    out.json.push_back({{"task", task_header_json(*t.task)}, {"run time", run}, {"start time", t.start},
                        {"utime", t.utime}, {"stime", t.stime}});
  }
  return {};
}

Expected<void> show_last_run(const Program& program, const TaskRefs& tasks, bool elapsed, PsViewOutput& out) {
  // sched_info exists with CONFIG_SCHED_INFO (schedstats, delay accounting).
  CORONER_TRY(info, program.debug_info());
  CORONER_TRY(has, info->has_member("struct task_struct", "sched_info.last_arrival"));
  if (!has) return make_error(Errc::not_found, "last-run timestamps do not exist in this kernel");
  CORONER_TRY(runqueues, find_global(program, "runqueues"));
  const linux_kernel::TaskStateBits& bits = linux_kernel::task_state_bits(program);
  std::vector<std::pair<uint64_t, const linux_kernel::Task*>> stamps;
  for (const linux_kernel::Task* task : tasks) {
    CORONER_TRY(object, task_object(program, task->address));
    CORONER_TRY(stamp, unsigned_member(object, "sched_info.last_arrival"));
    stamps.emplace_back(stamp, task);
  }
  std::stable_sort(stamps.begin(), stamps.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [stamp, task] : stamps) {
    std::string when = fmt::format("{}", stamp);
    nlohmann::json entry = {{"task", task_header_json(*task)}, {"last_arrival", stamp}};
    if (elapsed) {
      CORONER_TRY(rq, per_cpu(runqueues, task->cpu));
      CORONER_TRY(clock, unsigned_member(rq, "clock"));
      uint64_t ms = (clock > stamp ? clock - stamp : 0) / 1000000;
      when = fmt::format("{:2} {:02}:{:02}:{:02}.{:03}", ms / 86400000, ms / 3600000 % 24, ms / 60000 % 60,
                         ms / 1000 % 60, ms % 1000);
      entry["elapsed_ms"] = ms;
    }
    std::string state = linux_kernel::state_letters(bits, task->state);
    out.text += fmt::format("[{}] [{}] {}\n", when, state, task_header(*task));
    entry["st"] = state;
    out.json.push_back(entry);
  }
  return {};
}

Expected<void> show_rlimits(const Program& program, const TaskRefs& tasks, PsViewOutput& out) {
  constexpr size_t kNameWidth = 10, kValueWidth = 11;  // "SIGPENDING", "(unlimited)"
  for (const linux_kernel::Task* task : tasks) {
    // The limits live in signal_struct since 2.6.33.
    CORONER_TRY(object, task_object(program, task->address));
    CORONER_TRY(signal, object.member("signal"));
    CORONER_TRY(signal_struct, signal.deref());
    CORONER_TRY(rlim, signal_struct.member("rlim"));
    CORONER_TRY(bytes, rlim.byte_size());
    size_t count = std::min<uint64_t>(bytes / 16, 64);
    out.text += task_header(*task) + '\n';
    out.text += fmt::format("  {:>{}}   {}   {}\n", "RLIMIT", kNameWidth, centered("CURRENT", kValueWidth, true),
                            centered("MAXIMUM", kValueWidth, true));
    nlohmann::json limits = nlohmann::json::array();
    for (size_t i = 0; i < count; ++i) {
      CORONER_TRY(limit, rlim.index(static_cast<int64_t>(i)));
      CORONER_TRY(current, unsigned_member(limit, "rlim_cur"));
      CORONER_TRY(maximum, unsigned_member(limit, "rlim_max"));
      std::string_view name = i < kRlimitNames.size() ? kRlimitNames[i] : "(unknown)";
      auto shown = [&](uint64_t v) {
        return v == UINT64_MAX ? std::string("(unlimited)") : centered(std::to_string(v), kValueWidth, false);
      };
      out.text += fmt::format("  {:>{}}   {}   {}\n", name, kNameWidth, shown(current), shown(maximum));
      auto value = [](uint64_t v) { return v == UINT64_MAX ? nlohmann::json("unlimited") : nlohmann::json(v); };
      limits.push_back({{"rlimit", name}, {"current", value(current)}, {"maximum", value(maximum)}});
    }
    out.text += '\n';
    out.json.push_back({{"task", task_header_json(*task)}, {"rlimits", limits}});
  }
  return {};
}

Expected<void> show_arguments(const Program& program, const TaskRefs& tasks, PsViewOutput& out) {
  CORONER_TRY(arg_start, program.member_offset("struct mm_struct", "arg_start"));
  CORONER_TRY(arg_end, program.member_offset("struct mm_struct", "arg_end"));
  CORONER_TRY(env_start, program.member_offset("struct mm_struct", "env_start"));
  CORONER_TRY(env_end, program.member_offset("struct mm_struct", "env_end"));
  const KernelMemory& mem = program.memory();
  // The NUL-separated strings of [start, end) in the task's address space.
  auto strings = [&](const linux_kernel::Task& task, uint64_t root, uint64_t start_at,
                     uint64_t end_at) -> Expected<std::vector<std::string>> {
    CORONER_TRY(start, mem.read_u64(task.mm + start_at));
    CORONER_TRY(end, mem.read_u64(task.mm + end_at));
    if (end < start || end - start > kMaxArgumentBytes)
      return make_error(Errc::corrupt, "implausible user string area {:#x}-{:#x}", start, end);
    std::string bytes(end - start, '\0');
    auto read = mem.read(start, std::as_writable_bytes(std::span(bytes.data(), bytes.size())), root);
    if (!read) return make_error(read.error().code(), "cannot access user stack address: {:x}", start);
    std::vector<std::string> result;
    for (size_t at = 0; at < bytes.size();) {
      size_t nul = std::min(bytes.find('\0', at), bytes.size());
      if (nul > at) result.push_back(bytes.substr(at, nul - at));
      at = nul + 1;
    }
    return result;
  };
  for (const linux_kernel::Task* task : tasks) {
    out.text += task_header(*task) + '\n';
    nlohmann::json entry = {{"task", task_header_json(*task)}};
    auto root = linux_kernel::user_page_table_root(program, *task);
    auto args = root ? strings(*task, *root, arg_start, arg_end) : Expected<std::vector<std::string>>(root.error());
    auto env = args ? strings(*task, *root, env_start, env_end) : Expected<std::vector<std::string>>(args.error());
    if (!env) {
      std::string why = task->mm == 0 ? "no user stack" : env.error().message();
      out.text += "ps: " + why + "\n\n";
      entry["error"] = why;
      out.json.push_back(entry);
      continue;
    }
    std::string arg_line;
    for (const std::string& a : *args) arg_line += a + ' ';  // crash ends each with a space
    out.text += "ARG: " + arg_line + "\nENV: ";
    for (size_t i = 0; i < env->size(); ++i) out.text += (i ? "     " : "") + (*env)[i] + "\n";
    out.text += env->empty() ? "\n\n" : "\n";
    entry["arg"] = *args;
    entry["env"] = *env;
    out.json.push_back(entry);
  }
  return {};
}

}  // namespace coroner::commands
