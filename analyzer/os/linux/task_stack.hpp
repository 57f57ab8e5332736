// Which task an address belongs to: inside its task_struct, or on its
// kernel stack (task->stack, THREAD_SIZE bytes), as crash's `kmem ADDR`
// says of a task address.
#pragma once

#include "analyzer/os/linux/tasks.hpp"

#include <optional>

namespace coroner::linux_kernel {

// THREAD_SIZE: the init task's stack (init_stack to __end_init_task), else
// union thread_union, else the kernels' minimum of 16 KiB.
uint64_t kernel_stack_size(const Program& program);
// The first of those alone, from symbols (no types); nullopt without them.
std::optional<uint64_t> init_stack_size(const Program& program);

struct TaskAddress {
  Task task;
  bool in_stack = false;  // else inside the task_struct
};
// nullopt when no task of task_list() holds the address.
Expected<std::optional<TaskAddress>> task_holding(const Program& program, uint64_t address);

}  // namespace coroner::linux_kernel
