// The timer wheel (kernel/time/timer.c, 4.8+): each CPU's per-CPU
// timer_bases[] (BASE_STD and BASE_DEF with NO_HZ_COMMON; one base
// without), each base's vectors[] of hlist_heads of struct timer_list.
// Bounded: a list longer than any wheel holds or that loops ends with an
// error naming it, and costs only that bucket. And the hrtimers: each
// CPU's per-CPU hrtimer_bases, its clock_base[] with the timerqueue (an
// rbtree by expiry: rb_root_cached since 4.14) of struct hrtimer.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <optional>
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

struct HrTimer {
  uint64_t address = 0;  // struct hrtimer
  int64_t softexpires = 0, expires = 0;  // ns of the clock base's clock
  uint64_t function = 0;
};

struct HrTimerClockBase {
  unsigned index = 0;  // into hrtimer_cpu_base.clock_base[]
  uint64_t address = 0;
  uint64_t get_time = 0;  // the clock's reader (ktime_get); 0 where the member is gone (6.18)
  std::string clock_name; // enum hrtimer_base_type's name of the base when get_time is gone
  int64_t offset = 0;     // the clock's offset from the monotonic clock (hrtimer_clock_base.offset)
  std::vector<HrTimer> timers;  // by expiry
  std::optional<Error> skipped;  // the timerqueue or a timer of it could not be read
};

struct HrTimerCpuBase {
  uint32_t cpu = 0;
  uint64_t address = 0;  // per_cpu(hrtimer_bases, cpu)
  std::vector<HrTimerClockBase> clocks;
};

// The hrtimer bases of each CPU in `cpus`, in order.
Expected<std::vector<HrTimerCpuBase>> hrtimer_bases(const Program& program, const std::vector<uint32_t>& cpus);

}  // namespace coroner::linux_kernel
