#include "analyzer/frontends/gdbstub/process_target.hpp"

#include "analyzer/frontends/gdbstub/kernel_target.hpp"
#include "analyzer/os/linux/task_registers.hpp"
#include "analyzer/os/linux/task_state.hpp"
#include "analyzer/unwind/stack_trace.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace coroner::gdbstub {

Expected<std::unique_ptr<ProcessTarget>> ProcessTarget::open(const Program& program, int64_t pid) {
  CORONER_TRY(chosen, linux_kernel::find_task(program, pid));
  if (chosen.kernel_thread())
    return make_error(Errc::invalid_argument, "PID {} ({}) is a kernel thread: no process to debug", pid, chosen.comm);
  std::unique_ptr<ProcessTarget> target(new ProcessTarget(program));
  unsigned va_bits = static_cast<unsigned>(program.vmcoreinfo().number("VA_BITS").value_or(0));
  target->description_ = describe_target(program.arch().machine(), va_bits);
  CORONER_TRY(list, linux_kernel::task_list(program));
  for (const linux_kernel::Task& task : list->tasks) {
    if (task.tgid != chosen.tgid || task.pid <= 0 || task.kernel_thread()) continue;
    if (!target->tasks_.emplace(static_cast<uint64_t>(task.pid), task).second) continue;
    std::string state = linux_kernel::state_letters(linux_kernel::task_state_bits(program), task.state);
    target->threads_.push_back({static_cast<uint64_t>(task.pid),
                                fmt::format("{} {} [{}] cpu {}", task.pid, task.comm, state, task.cpu)});
  }
  if (target->threads_.empty()) return make_error(Errc::not_found, "PID {}: no thread of its process is listed", pid);
  // The thread group leader first, as gdb numbers a process's threads.
  std::stable_partition(target->threads_.begin(), target->threads_.end(),
                        [&](const RemoteThread& t) { return t.id == static_cast<uint64_t>(chosen.tgid); });
  target->stop_thread_ = static_cast<uint64_t>(pid);
  return target;
}

std::vector<std::optional<uint64_t>> ProcessTarget::registers(uint64_t thread) const {
  std::vector<std::optional<uint64_t>> values(description_.registers.size());
  for (size_t i = 0; i < values.size(); ++i) values[i] = description_.registers[i].constant;
  auto task = tasks_.find(thread);
  if (task == tasks_.end()) return values;
  auto start = linux_kernel::task_start_frame(program_, task->second.address);
  if (!start) return values;
  // The user-mode registers end the kernel stack: the trace's last frame
  // when the unwind reached it.
  const unwind::StackTrace trace = unwind::unwind(program_, unwind::unwinder_of(program_), *start,
                                                  {.inline_frames = false, .source_lines = false});
  auto user = std::find_if(trace.physical.rbegin(), trace.physical.rend(),
                           [](const unwind::PhysicalFrame& f) { return f.user_mode; });
  if (user == trace.physical.rend()) return values;
  const auto& names = program_.arch().register_names();
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string& source = description_.registers[i].source;
    auto at = std::find(names.begin(), names.end(), source);
    if (!source.empty() && at != names.end()) values[i] = user->registers.get(static_cast<size_t>(at - names.begin()));
  }
  return values;
}

size_t ProcessTarget::read_memory(uint64_t thread, uint64_t address, std::span<std::byte> out) const {
  auto task = tasks_.find(thread);
  if (task == tasks_.end()) task = tasks_.find(stop_thread_);
  auto root = linux_kernel::user_page_table_root(program_, task->second);
  if (!root) return 0;
  return read_readable_prefix(program_, address, out, *root);
}


std::optional<std::string> ProcessTarget::auxv() const {
  const linux_kernel::Task& task = tasks_.at(stop_thread_);
  auto offset = program_.member_offset("struct mm_struct", "saved_auxv");
  if (!offset || task.mm == 0) return std::nullopt;
  // Pairs of (type, value) up to AT_NULL; the array is AT_VECTOR_SIZE long
  // (46 entries on 6.1), bounded here in case AT_NULL is missing.
  constexpr size_t kMaxPairs = 64;
  std::string bytes;
  for (size_t i = 0; i < kMaxPairs; ++i) {
    uint64_t pair[2];
    if (!program_.memory().read(task.mm + *offset + i * sizeof pair, std::as_writable_bytes(std::span(pair))))
      break;
    bytes.append(reinterpret_cast<const char*>(pair), sizeof pair);
    if (pair[0] == 0) break;
  }
  if (bytes.empty()) return std::nullopt;
  return bytes;
}

}  // namespace coroner::gdbstub
