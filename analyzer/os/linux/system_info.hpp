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
  std::optional<std::array<double, 3>> load_average;
  std::optional<size_t> tasks;
  uint64_t memory_bytes = 0;                   // RAM the dump describes
  std::optional<uint64_t> cpu_mhz;             // x86_64 cpu_khz / 1000
  std::optional<std::string> panic;            // crash's PANIC line
  std::vector<std::string> problems;           // why a field is missing
};

SystemInfo read_system_info(const Program& program);

// struct new_utsname of init_uts_ns.
Expected<Utsname> read_utsname(const Program& program);

// The CPUs set in a cpumask variable ("__cpu_online_mask",
// "__cpu_present_mask"), nr_cpu_ids bits long.
Expected<std::vector<int>> read_cpu_mask(const Program& program, std::string_view mask_symbol);

}  // namespace coroner::linux_kernel
