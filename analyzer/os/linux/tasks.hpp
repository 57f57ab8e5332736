// Tasks of the dumped Linux kernel: the list from init_task, lookup by PID,
// and a task's user page tables. Offsets come from DWARF, with the known
// renames across kernels (task_struct.state → __state in 5.14,
// thread_group → thread_node/signal->thread_head).
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
};

// Every thread, init_task (PID 0 of CPU 0) first, then each thread group
// leader in list order followed by its other threads. Bounded: a corrupt,
// looping list ends with an error naming the task where it looped.
Expected<std::vector<Task>> list_tasks(const Program& program);

// The thread with `pid` (first match); Errc::not_found if none.
Expected<Task> find_task(const Program& program, int64_t pid);

// Physical address of the top-level page table of the task's address
// space (mm->pgd); an error for kernel threads, which have none.
Expected<uint64_t> user_page_table_root(const Program& program, const Task& task);

}  // namespace coroner::linux_kernel
