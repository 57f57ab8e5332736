#include "analyzer/os/linux/tasks.hpp"

#include "analyzer/object.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace coroner::linux_kernel {

namespace {

constexpr size_t kMaxTasks = 1 << 22;   // far above any real pid_max
constexpr size_t kCommLength = 16;      // TASK_COMM_LEN
constexpr uint64_t kPfExiting = 0x4;    // PF_EXITING, unchanged since 2.6
constexpr uint64_t kPfKthread = 0x00200000;  // PF_KTHREAD, unchanged since 2.6.27

struct TaskLayout {
  uint64_t tasks = 0, pid = 0, tgid = 0, comm = 0, mm = 0, real_parent = 0, flags = 0, state = 0, exit_state = 0,
           cpu = 0;
  // Thread lists: 3.14+ signal->thread_head / task->thread_node; thread_group
  // (kept up to 6.6) where it exists, as the way around an unreadable
  // signal_struct.
  std::optional<uint64_t> thread_node, thread_head, signal, thread_group;
};

Expected<TaskLayout> task_layout(const Program& program) {
  auto offset = [&](std::string_view member) { return program.member_offset("struct task_struct", member); };
  auto optional_offset = [&](std::string_view type, std::string_view member) -> std::optional<uint64_t> {
    auto o = program.member_offset(type, member);
    return o ? std::optional(*o) : std::nullopt;
  };
  TaskLayout l;
  CORONER_TRY(tasks, offset("tasks"));
  CORONER_TRY(pid, offset("pid"));
  CORONER_TRY(tgid, offset("tgid"));
  CORONER_TRY(comm, offset("comm"));
  CORONER_TRY(mm, offset("mm"));
  CORONER_TRY(real_parent, offset("real_parent"));
  CORONER_TRY(flags, offset("flags"));
  CORONER_TRY(exit_state, offset("exit_state"));
  auto state = offset("__state");  // 5.14 renamed state (a long) to __state (an unsigned int)
  if (!state) state = offset("state");
  if (!state) return state.error();
  auto cpu = offset("cpu");  // 5.16 moved it here from thread_info
  if (!cpu) cpu = offset("thread_info.cpu");
  if (!cpu) return cpu.error();
  l.tasks = tasks, l.pid = pid, l.tgid = tgid, l.comm = comm, l.mm = mm, l.real_parent = real_parent;
  l.flags = flags, l.exit_state = exit_state, l.state = *state, l.cpu = *cpu;
  l.thread_node = optional_offset("struct task_struct", "thread_node");
  l.thread_head = optional_offset("struct signal_struct", "thread_head");
  l.signal = optional_offset("struct task_struct", "signal");
  l.thread_group = optional_offset("struct task_struct", "thread_group");
  if (!(l.thread_node && l.thread_head && l.signal) && !l.thread_group)
    return make_error(Errc::not_found, "struct task_struct has neither thread_node nor thread_group");
  return l;
}

Expected<Task> read_task_fields(const Program& program, const TaskLayout& l, uint64_t address) {
  const KernelMemory& mem = program.memory();
  Task t;
  t.address = address;
  CORONER_TRY(pid, mem.read_value<int32_t>(address + l.pid));
  CORONER_TRY(tgid, mem.read_value<int32_t>(address + l.tgid));
  CORONER_TRY(mm, mem.read_u64(address + l.mm));
  CORONER_TRY(parent, mem.read_u64(address + l.real_parent));
  CORONER_TRY(flags, mem.read_u32(address + l.flags));
  // Both state layouts hold every TASK_* bit in their low 32 bits
  // (little-endian arm64 and x86_64).
  CORONER_TRY(state, mem.read_u32(address + l.state));
  CORONER_TRY(exit_state, mem.read_u32(address + l.exit_state));
  CORONER_TRY(cpu, mem.read_u32(address + l.cpu));
  CORONER_TRY(comm, mem.read_string(address + l.comm, kCommLength));
  t.pid = pid, t.tgid = tgid, t.mm = mm, t.parent = parent, t.flags = flags, t.cpu = cpu;
  t.state = static_cast<uint64_t>(state) | exit_state;
  t.comm = std::move(comm);
  return t;
}

// Builds the list: each walk adds what it can read and records what it
// could not.
class TaskWalk {
 public:
  TaskWalk(const Program& program, const TaskLayout& layout) : program_(program), layout_(layout) {}

  TaskList finish() {
    // ppid: the parent's tgid (getppid()); a parent outside the list is
    // read directly.
    std::unordered_map<uint64_t, int64_t> tgid_of;
    for (const Task& t : list_.tasks) tgid_of[t.address] = t.tgid;
    for (Task& t : list_.tasks) {
      if (t.idle || t.parent == 0) continue;
      if (auto found = tgid_of.find(t.parent); found != tgid_of.end()) t.ppid = found->second;
      else if (auto tgid = program_.memory().read_value<int32_t>(t.parent + layout_.tgid)) t.ppid = *tgid;
    }
    std::stable_sort(list_.tasks.begin(), list_.tasks.end(), [](const Task& a, const Task& b) {
      if (a.pid != b.pid) return a.pid < b.pid;
      return a.idle && b.idle && a.cpu < b.cpu;
    });
    return std::move(list_);
  }

  void skip(std::string line) { list_.skipped.push_back(std::move(line)); }

  // Adds the task at `address` unless it is known; false when unreadable.
  bool add(uint64_t address, bool idle = false) {
    if (seen_.count(address)) {
      if (idle) mark_idle(address);
      return true;
    }
    if (list_.tasks.size() >= kMaxTasks) return false;
    auto task = read_task_fields(program_, layout_, address);
    if (!task) {
      skip(fmt::format("task_struct {:#x}: {}", address, task.error().message()));
      return false;
    }
    seen_.insert(address);
    task->idle = idle;
    list_.tasks.push_back(std::move(*task));
    return true;
  }

  // The circular list at `head` whose entries sit `link` bytes into each
  // task: forward through next, and, if a pointer cannot be read or the
  // list loops, backward through prev from the head to where the forward
  // walk went. Returns false if some part stayed out of reach.
  bool walk(std::string_view what, uint64_t head, uint64_t link, const std::function<void(uint64_t)>& visit) {
    std::unordered_set<uint64_t> forward_links{head};
    auto forward = follow(head, 0, link, {head}, forward_links, visit);
    if (!forward) return true;
    std::unordered_set<uint64_t> backward_links;
    auto backward = follow(head, 8, link, forward_links, backward_links, visit);
    if (!backward) {
      skip(fmt::format("{}: {}; the rest was reached backward from its head", what, *forward));
      return true;
    }
    skip(fmt::format("{}: {}; backward: {}; the tasks between are missing", what, *forward, *backward));
    return false;
  }

  const TaskLayout& layout() const { return layout_; }
  const Program& program() const { return program_; }
  const std::vector<Task>& tasks() const { return list_.tasks; }

 private:
  void mark_idle(uint64_t address) {
    for (Task& t : list_.tasks)
      if (t.address == address) t.idle = true;
  }

  // Follows the pointer at `direction` (0 next, 8 prev) of each list_head
  // until it reaches a link of `done` (forward: the head; backward: where
  // the forward walk was), adding each link to `links`; the reason it
  // stopped early, if it did. A link reached twice otherwise is a loop.
  std::optional<std::string> follow(uint64_t head, uint64_t direction, uint64_t link,
                                    const std::unordered_set<uint64_t>& done, std::unordered_set<uint64_t>& links,
                                    const std::function<void(uint64_t)>& visit) {
    for (uint64_t at = head;;) {
      auto next = program_.memory().read_u64(at + direction);
      if (!next) return fmt::format("list_head {:#x}: {}", at, next.error().message());
      if (*next == 0) return fmt::format("list_head {:#x} has a NULL pointer", at);
      if (done.count(*next)) return std::nullopt;
      if (!links.insert(*next).second)
        return fmt::format("list_head {:#x} points back to {:#x}, reached before (a loop)", at, *next);
      if (links.size() > kMaxTasks) return fmt::format("more than {} entries", kMaxTasks);
      visit(*next - link);
      at = *next;
    }
  }

  const Program& program_;
  const TaskLayout& layout_;
  TaskList list_;
  std::unordered_set<uint64_t> seen_;
};

// The threads of the group `leader` leads, other than itself.
void walk_threads(TaskWalk& walk, const Task& leader) {
  const TaskLayout& l = walk.layout();
  auto add = [&](uint64_t task) {
    if (task != leader.address) walk.add(task);
  };
  std::string signal_problem;
  if (l.thread_node) {
    auto signal = walk.program().memory().read_u64(leader.address + *l.signal);
    if (signal && *signal == 0) return;  // an exited task's
    if (signal) {
      auto head = *signal + *l.thread_head;
      if (walk.program().memory().read_u64(head)) {
        walk.walk(fmt::format("threads of PID {}", leader.pid), head, *l.thread_node, add);
        return;
      }
      signal_problem = fmt::format("signal_struct {:#x} is unreadable", *signal);
    } else {
      signal_problem = signal.error().message();
    }
    if (!l.thread_group) {
      walk.skip(fmt::format("threads of PID {}: {}; they are missing", leader.pid, signal_problem));
      return;
    }
  }
  bool complete = walk.walk(fmt::format("thread_group of PID {}", leader.pid), leader.address + *l.thread_group,
                            *l.thread_group, add);
  if (!signal_problem.empty() && complete)
    walk.skip(fmt::format("threads of PID {}: {}; they were found through task_struct.thread_group", leader.pid,
                          signal_problem));
}

// Each CPU's idle task and the task running there, which a broken list may
// have lost.
void add_runqueue_tasks(TaskWalk& walk) {
  const Program& program = walk.program();
  auto runqueues = find_kernel_global(program, "runqueues");
  auto cpus = possible_cpus(program);
  if (!runqueues || !cpus) {
    walk.skip(fmt::format("runqueues: {}", (!runqueues ? runqueues.error() : cpus.error()).message()));
    return;
  }
  for (uint32_t cpu : *cpus) {
    auto rq = per_cpu(*runqueues, cpu);
    for (std::string_view member : {"idle", "curr"}) {
      auto pointer = rq ? rq->member(member) : Expected<Object>(rq.error());
      auto address = pointer ? pointer->read_unsigned() : Expected<uint64_t>(pointer.error());
      if (!address) {
        walk.skip(fmt::format("runqueue of CPU {}: {}: {}", cpu, member, address.error().message()));
        continue;
      }
      if (*address != 0) walk.add(*address, member == "idle");
    }
  }
}

Expected<TaskList> walk_tasks(const Program& program) {
  CORONER_TRY(layout, task_layout(program));
  CORONER_TRY(init_task, program.symbol_address("init_task"));
  TaskWalk walk(program, layout);
  if (!walk.add(init_task, /*idle=*/true))
    return make_error(Errc::not_in_dump, "init_task {:#x} cannot be read: no task list", init_task);
  walk.walk("task list", init_task + layout.tasks, layout.tasks, [&](uint64_t task) { walk.add(task); });
  add_runqueue_tasks(walk);
  // Thread groups: every leader found so far (tasks() grows as threads are
  // added; they are not leaders).
  for (size_t i = 0, n = walk.tasks().size(); i < n; ++i) {
    Task leader = walk.tasks()[i];
    if (leader.pid == leader.tgid && !leader.idle) walk_threads(walk, leader);
  }
  return walk.finish();
}

}  // namespace

bool Task::kernel_thread() const { return pid == 0 || (flags & kPfKthread) != 0; }
bool Task::exiting() const { return (flags & kPfExiting) != 0; }

Expected<const TaskList*> task_list(const Program& program) {
  // The dump does not change: walked once per program.
  struct Cached {
    Expected<TaskList> list;
  };
  const auto& cached = program.extension<Cached>([&] { return new Cached{walk_tasks(program)}; });
  if (!cached.list) return cached.list.error();
  return &*cached.list;
}

Expected<std::vector<Task>> list_tasks(const Program& program) {
  CORONER_TRY(list, task_list(program));
  return list->tasks;
}

Expected<Task> find_task(const Program& program, int64_t pid) {
  CORONER_TRY(list, task_list(program));
  for (const Task& t : list->tasks)
    if (t.pid == pid) return t;
  return make_error(Errc::not_found, "no task with PID {}", pid);
}

Expected<Task> read_task(const Program& program, uint64_t address) {
  CORONER_TRY(layout, task_layout(program));
  return read_task_fields(program, layout, address);
}

Expected<uint64_t> thread_info_address(const Program& program, const Task& task) {
  CORONER_TRY(info, program.debug_info());
  CORONER_TRY(in_task, info->has_member("struct task_struct", "thread_info"));
  if (in_task) {
    CORONER_TRY(offset, program.member_offset("struct task_struct", "thread_info"));
    return task.address + offset;
  }
  CORONER_TRY(stack, program.member_offset("struct task_struct", "stack"));
  return program.memory().read_u64(task.address + stack);
}

Expected<uint64_t> user_page_table_root(const Program& program, const Task& task) {
  if (task.mm == 0)
    return make_error(Errc::invalid_argument, "PID {} ({}) is a kernel thread: it has no user address space",
                      task.pid, task.comm);
  CORONER_TRY(pgd_offset, program.member_offset("struct mm_struct", "pgd"));
  CORONER_TRY(pgd, program.memory().read_u64(task.mm + pgd_offset));
  auto root = program.memory().to_physical(pgd);
  if (!root) return root.error().context(fmt::format("page tables of PID {}", task.pid));
  return *root;
}

}  // namespace coroner::linux_kernel
