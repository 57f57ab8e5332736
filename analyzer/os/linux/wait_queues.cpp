#include "analyzer/os/linux/wait_queues.hpp"

#include "analyzer/os/linux/list_walk.hpp"

namespace coroner::linux_kernel {

namespace {

constexpr size_t kMaxWaiters = 1 << 20;

}  // namespace

Expected<std::vector<uint64_t>> wait_queue_waiters(const Program& program, uint64_t head) {
  // wait_queue_head.head / wait_queue_entry since 4.13, task_list / __wait_queue before.
  bool entry_struct = bool(program.member_offset("struct wait_queue_entry", "entry"));
  CORONER_TRY(list, entry_struct ? program.member_offset("struct wait_queue_head", "head")
                                 : program.member_offset("struct __wait_queue_head", "task_list"));
  CORONER_TRY(link, entry_struct ? program.member_offset("struct wait_queue_entry", "entry")
                                 : program.member_offset("struct __wait_queue", "task_list"));
  CORONER_TRY(task, entry_struct ? program.member_offset("struct wait_queue_entry", "private")
                                 : program.member_offset("struct __wait_queue", "private"));
  std::vector<uint64_t> waiters;
  ListBudget budget{kMaxWaiters};
  CORONER_CHECK(walk_list(program.memory(), "wait queue", head + list, link, budget, [&](uint64_t entry) -> Expected<void> {
    CORONER_TRY(waiter, program.memory().read_u64(entry + task));
    waiters.push_back(waiter);
    return {};
  }));
  return waiters;
}

}  // namespace coroner::linux_kernel
