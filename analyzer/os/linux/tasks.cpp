#include "analyzer/os/linux/tasks.hpp"

#include "analyzer/os/linux/list_walk.hpp"

namespace coroner::linux_kernel {

namespace {

constexpr size_t kMaxTasks = 1 << 22;  // far above any real pid_max

struct TaskLayout {
  uint64_t tasks = 0, pid = 0, tgid = 0, comm = 0, mm = 0;
  // Thread lists: 3.14+ signal->thread_head / task->thread_node; older kernels
  // thread_group (also kept up to 6.6).
  bool thread_node = false;
  uint64_t thread_link = 0, signal = 0, thread_head = 0;
};

Expected<TaskLayout> task_layout(const Program& program) {
  TaskLayout l;
  CORONER_TRY(tasks, program.member_offset("struct task_struct", "tasks"));
  CORONER_TRY(pid, program.member_offset("struct task_struct", "pid"));
  CORONER_TRY(tgid, program.member_offset("struct task_struct", "tgid"));
  CORONER_TRY(comm, program.member_offset("struct task_struct", "comm"));
  CORONER_TRY(mm, program.member_offset("struct task_struct", "mm"));
  l.tasks = tasks, l.pid = pid, l.tgid = tgid, l.comm = comm, l.mm = mm;
  auto node = program.member_offset("struct task_struct", "thread_node");
  auto head = program.member_offset("struct signal_struct", "thread_head");
  auto signal = program.member_offset("struct task_struct", "signal");
  if (node && head && signal) {
    l.thread_node = true;
    l.thread_link = *node, l.thread_head = *head, l.signal = *signal;
  } else {
    CORONER_TRY(group, program.member_offset("struct task_struct", "thread_group"));
    l.thread_link = group;
  }
  return l;
}

Expected<Task> read_task(const Program& program, const TaskLayout& l, uint64_t address) {
  const KernelMemory& mem = program.memory();
  Task t;
  t.address = address;
  CORONER_TRY(pid, mem.read_value<int32_t>(address + l.pid));
  CORONER_TRY(tgid, mem.read_value<int32_t>(address + l.tgid));
  CORONER_TRY(mm, mem.read_u64(address + l.mm));
  CORONER_TRY(comm, mem.read_string(address + l.comm, 16));
  t.pid = pid, t.tgid = tgid, t.mm = mm, t.comm = std::move(comm);
  return t;
}

}  // namespace

Expected<std::vector<Task>> list_tasks(const Program& program) {
  CORONER_TRY(layout, task_layout(program));
  CORONER_TRY(init_task, program.symbol_address("init_task"));
  const KernelMemory& mem = program.memory();
  std::vector<Task> result;
  ListBudget budget{kMaxTasks};  // tasks and threads together

  auto add_group = [&](uint64_t leader) -> Expected<void> {
    CORONER_TRY(task, read_task(program, layout, leader));
    result.push_back(task);
    auto add_thread = [&](uint64_t thread) -> Expected<void> {
      if (thread == leader) return {};
      CORONER_TRY(t, read_task(program, layout, thread));
      result.push_back(std::move(t));
      return {};
    };
    if (layout.thread_node) {
      CORONER_TRY(signal, mem.read_u64(leader + layout.signal));
      if (signal == 0) return {};
      return walk_list(mem, "thread list", signal + layout.thread_head, layout.thread_link, budget, add_thread);
    }
    return walk_list(mem, "thread list", leader + layout.thread_link, layout.thread_link, budget, add_thread);
  };

  CORONER_CHECK(add_group(init_task));
  CORONER_CHECK(walk_list(mem, "task list", init_task + layout.tasks, layout.tasks, budget, add_group));
  return result;
}

Expected<Task> find_task(const Program& program, int64_t pid) {
  CORONER_TRY(tasks, list_tasks(program));
  for (Task& t : tasks)
    if (t.pid == pid) return std::move(t);
  return make_error(Errc::not_found, "no task with PID {}", pid);
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
