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
  int cpus = 0;                                // online CPUs
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

// Online CPUs from __cpu_online_mask, else the number of NT_PRSTATUS notes.
Expected<int> online_cpu_count(const Program& program);

}  // namespace coroner::linux_kernel
