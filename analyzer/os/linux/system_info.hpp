// What crash's `sys` shows about the dumped Linux system, gathered once.
// Each field is best effort: what cannot be read is left empty and the
// reason recorded in `problems`, so `sys` prints what it can.
#pragma once

#include "analyzer/program.hpp"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct SystemInfo {
  Utsname uts;                                 // from init_uts_ns
  std::vector<int> present_cpus;               // crash's CPUS count
  std::vector<int> online_cpus;                // CPUs not stopped (panic stops the others)
  std::optional<int64_t> time;                 // seconds since the epoch at the crash
  std::optional<uint64_t> uptime_seconds;
  // avenrun[]: fixed point, kLoadFixedShift fractional bits.
  std::optional<std::array<uint64_t, 3>> load_average;
  // RAM as crash counts it: the present pages of every node (spanned pages
  // where a node counts none present); else what the dump describes.
  uint64_t memory_bytes = 0;
  std::optional<uint64_t> cpu_mhz;             // x86_64 cpu_khz / 1000
  std::optional<uint64_t> tainted_mask;
  std::optional<std::string> panic;            // crash's PANIC line
  std::vector<std::string> problems;           // why a field is missing
};

constexpr int kLoadFixedShift = 11;  // FSHIFT of avenrun[]

// Everything but the tasks, which the commands count (task_selection.hpp).
SystemInfo read_system_info(const Program& program);

// The time of the crash, seconds since the epoch: VMCOREINFO's CRASHTIME,
// else (QEMU dumps) the timekeeper's wall clock.
Expected<int64_t> crash_time(const Program& program);

// Seconds since boot as crash counts them: jiffies_64 since INITIAL_JIFFIES,
// over HZ (from tick_nsec, TICK_NSEC = NSEC_PER_SEC / HZ); the timekeeper's
// monotonic clock when those are missing.
Expected<uint64_t> uptime_seconds(const Program& program);
// The jiffies since boot: jiffies_64 since INITIAL_JIFFIES.
Expected<uint64_t> uptime_ticks(const Program& program);

// The wall-clock time of boot, seconds since the epoch: crash_time() minus
// uptime_seconds(), crash's boot_date, from which `log -T` dates records.
Expected<int64_t> boot_time(const Program& program);

// HZ from tick_nsec, the length of a tick (NTP may have trimmed it a little).
Expected<uint64_t> tick_rate(const Program& program);

// struct new_utsname of init_uts_ns.
Expected<Utsname> read_utsname(const Program& program);

// The CPUs set in a cpumask variable ("__cpu_online_mask",
// "__cpu_present_mask"), nr_cpu_ids bits long.
Expected<std::vector<int>> read_cpu_mask(const Program& program, std::string_view mask_symbol);

}  // namespace coroner::linux_kernel
