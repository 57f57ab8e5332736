#include "analyzer/os/linux/task_stack.hpp"

#include <bit>

namespace coroner::linux_kernel {

namespace {

// The bytes of a task_struct: x86_64 sizes the FPU state at its end at
// boot (arch_task_struct_size), smaller than DWARF's struct.
Expected<uint64_t> task_struct_size(const Program& program) {
  if (auto symbol = program.kernel_symbol_address("arch_task_struct_size")) {
    auto size = program.memory().read_u32(*symbol);
    if (size && *size) return *size;
  }
  return program.type_size("struct task_struct");
}

}  // namespace

std::optional<uint64_t> init_stack_size(const Program& program) {
  auto start = program.kernel_symbol_address("init_stack");
  auto end = program.kernel_symbol_address("__end_init_task");
  if (start && end && *end > *start && std::has_single_bit(*end - *start)) return *end - *start;
  return std::nullopt;
}

uint64_t kernel_stack_size(const Program& program) {
  if (auto size = init_stack_size(program)) return *size;
  if (auto size = program.type_size("union thread_union"); size && std::has_single_bit(*size)) return *size;
  return std::max<uint64_t>(16384, program.arch().page_size());
}

Expected<std::optional<TaskAddress>> task_holding(const Program& program, uint64_t address) {
  CORONER_TRY(tasks, task_list(program));
  CORONER_TRY(task_size, task_struct_size(program));
  CORONER_TRY(stack_offset, program.member_offset("struct task_struct", "stack"));
  const uint64_t stack_size = kernel_stack_size(program);
  for (const Task& task : tasks->tasks)
    if (address >= task.address && address - task.address < task_size) return std::optional<TaskAddress>({task, false});
  for (const Task& task : tasks->tasks) {
    auto stack = program.memory().read_u64(task.address + stack_offset);
    if (stack && *stack && address >= *stack && address - *stack < stack_size)
      return std::optional<TaskAddress>({task, true});
  }
  return std::optional<TaskAddress>();
}

}  // namespace coroner::linux_kernel
