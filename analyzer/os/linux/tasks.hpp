// Tasks of the dumped Linux kernel, found the way the kernel walks them:
// init_task.tasks (the thread group leaders), each group's threads
// (signal->thread_head / thread_node since 3.14, else thread_group), and
// each CPU's idle and running task from its runqueue. Offsets come from
// DWARF, with the known renames across kernels (task_struct.state →
// __state in 5.14, thread_info.cpu → task_struct.cpu in 5.16).
//
// A page that cannot be read loses only what is behind it: the task list is
// walked forward and then backward from init_task, a group whose
// signal_struct is unreadable is walked through thread_group, and the
// runqueues add their tasks; what could not be read is listed in
// TaskList::skipped.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct Task {
  uint64_t address = 0;  // struct task_struct *
  int64_t pid = 0;   // pid_t is 32 bits today; kept wide so a parsed PID is never truncated
  int64_t tgid = 0;
  std::string comm;
  uint64_t mm = 0;       // 0 for kernel threads
  uint64_t parent = 0;   // real_parent
  int64_t ppid = 0;      // real_parent->tgid, as getppid() answers
  uint32_t cpu = 0;      // the CPU it last ran on
  uint64_t state = 0;    // state (__state) | exit_state
  uint64_t flags = 0;    // PF_*
  bool idle = false;     // a CPU's idle task (PID 0)

  // A kernel thread: PID 0 or PF_KTHREAD (an exiting user task has no mm
  // either, but stays a user task).
  bool kernel_thread() const;
  // PF_EXITING: its memory is being torn down.
  bool exiting() const;
};

struct TaskList {
  // Every task, ordered as crash lists them: by PID, the idle tasks (PID 0)
  // by CPU.
  std::vector<Task> tasks;
  // One line for each part that could not be read and what it cost
  // ("task list: task_struct 0x... not in the dump (...): the tasks after it
  // were reached backward").
  std::vector<std::string> skipped;
};

// The tasks, walked once per program. An error only when nothing can be
// walked (no init_task, no DWARF for task_struct).
Expected<const TaskList*> task_list(const Program& program);

// The tasks of task_list() (for callers that only count or search them).
Expected<std::vector<Task>> list_tasks(const Program& program);

// The thread with `pid` (the first: PID 0 is CPU 0's idle task);
// Errc::not_found if none.
Expected<Task> find_task(const Program& program, int64_t pid);

// The task_struct at `address` read directly, whether or not a list holds
// it (bt TASK when the task list is broken elsewhere).
Expected<Task> read_task(const Program& program, uint64_t address);

// The task's struct thread_info: inside task_struct (its first member) with
// THREAD_INFO_IN_TASK (x86_64 4.9+, arm64 4.10+), else at the bottom of its
// stack (task->stack).
Expected<uint64_t> thread_info_address(const Program& program, const Task& task);

// Physical address of the top-level page table of the task's address
// space (mm->pgd); an error for kernel threads, which have none.
Expected<uint64_t> user_page_table_root(const Program& program, const Task& task);

}  // namespace coroner::linux_kernel
