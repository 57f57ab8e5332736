// The waiters of a wait queue (wait_queue_head_t): its list `head` of
// wait_queue_entry.entry since 4.13 (task_list of __wait_queue before),
// each entry's `private` the waiting task (for the default wake function).
// Bounded and cycle-safe through walk_list.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <vector>

namespace coroner::linux_kernel {

// The `private` pointer of each entry of the wait_queue_head at `head`, in
// queue order.
Expected<std::vector<uint64_t>> wait_queue_waiters(const Program& program, uint64_t head);

}  // namespace coroner::linux_kernel
