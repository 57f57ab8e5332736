// The timer wheel (kernel/time/timer.c, 4.8+): each CPU's per-CPU
// timer_bases[] (BASE_STD and BASE_DEF with NO_HZ_COMMON; one base
// without), each base's vectors[] of hlist_heads of struct timer_list.
// Bounded: a list longer than any wheel holds or that loops ends with an
// error naming it, and costs only that bucket.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct Timer {
  uint64_t address = 0;   // struct timer_list
  uint64_t expires = 0;   // jiffies
  uint64_t function = 0;  // timer_list.function
};

struct TimerBase {
  uint32_t cpu = 0;
  unsigned index = 0;      // into timer_bases[]
  uint64_t address = 0;    // struct timer_base
  std::vector<Timer> timers;  // by expiry
  std::vector<Error> skipped;
};

// The bases of each CPU in `cpus`, in order.
Expected<std::vector<TimerBase>> timer_bases(const Program& program, const std::vector<uint32_t>& cpus);

}  // namespace coroner::linux_kernel
