#include "analyzer/os/linux/system_info.hpp"

#include "analyzer/os/linux/panic_message.hpp"
#include "analyzer/os/linux/printk_log.hpp"
#include "analyzer/os/linux/tasks.hpp"

#include <vector>

namespace coroner::linux_kernel {

namespace {

constexpr size_t kUtsFieldLength = 65;  // __NEW_UTS_LEN + 1, fixed by the ABI
constexpr int kLoadFixedShift = 11;     // FSHIFT of avenrun[]

template <typename T>
std::optional<T> keep(Expected<T> value, std::string_view what, std::vector<std::string>& problems) {
  if (value) return std::move(*value);
  problems.push_back(fmt::format("{}: {}", what, value.error().message()));
  return std::nullopt;
}

Expected<int64_t> crash_time(const Program& program) {
  if (auto t = program.vmcoreinfo().crash_time()) return *t;
  // QEMU dumps have no CRASHTIME: the timekeeper's wall clock is the time.
  CORONER_TRY(tk, program.symbol_address("shadow_timekeeper"));
  CORONER_TRY(xtime, program.member_offset("struct timekeeper", "xtime_sec"));
  return program.memory().read_value<int64_t>(tk + xtime);
}

// Monotonic seconds since boot: the timekeeper's xtime plus wall_to_monotonic.
Expected<uint64_t> uptime(const Program& program) {
  CORONER_TRY(tk, program.symbol_address("shadow_timekeeper"));
  CORONER_TRY(xtime_off, program.member_offset("struct timekeeper", "xtime_sec"));
  CORONER_TRY(wtm_off, program.member_offset("struct timekeeper", "wall_to_monotonic"));
  CORONER_TRY(xtime, program.memory().read_value<int64_t>(tk + xtime_off));
  CORONER_TRY(wtm, program.memory().read_value<int64_t>(tk + wtm_off));
  int64_t up = xtime + wtm;
  if (up < 0) return make_error(Errc::corrupt, "timekeeper gives a negative uptime ({} s)", up);
  return static_cast<uint64_t>(up);
}

Expected<std::array<double, 3>> load_average(const Program& program) {
  CORONER_TRY(avenrun, program.symbol_address("avenrun"));
  std::array<double, 3> result{};
  for (int i = 0; i < 3; ++i) {
    CORONER_TRY(v, program.memory().read_u64(avenrun + 8 * i));
    result[i] = static_cast<double>(v) / (1 << kLoadFixedShift);
  }
  return result;
}

Expected<uint64_t> cpu_mhz(const Program& program) {
  CORONER_TRY(khz, program.symbol_address("cpu_khz"));
  CORONER_TRY(value, program.memory().read_u32(khz));
  return value / 1000;
}

Expected<std::string> panic_line(const Program& program) {
  CORONER_TRY(log, read_printk_log(program.vmcoreinfo(), program.memory()));
  auto message = find_panic_message(log);
  if (!message) return make_error(Errc::not_found, "no panic or oops message in the kernel log");
  return *message;
}

}  // namespace

Expected<Utsname> read_utsname(const Program& program) {
  CORONER_TRY(ns, program.symbol_address("init_uts_ns"));
  uint64_t name_offset = 0;
  if (auto off = program.vmcoreinfo().offset("uts_namespace.name")) name_offset = *off;
  else {
    CORONER_TRY(off2, program.member_offset("struct uts_namespace", "name"));
    name_offset = off2;
  }
  std::string* fields[] = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  Utsname uts;
  fields[0] = &uts.sysname, fields[1] = &uts.nodename, fields[2] = &uts.release;
  fields[3] = &uts.version, fields[4] = &uts.machine, fields[5] = &uts.domainname;
  for (size_t i = 0; i < 6; ++i) {
    CORONER_TRY(s, program.memory().read_string(ns + name_offset + i * kUtsFieldLength, kUtsFieldLength));
    *fields[i] = std::move(s);
  }
  return uts;
}

Expected<std::vector<int>> read_cpu_mask(const Program& program, std::string_view mask_symbol) {
  CORONER_TRY(mask, program.symbol_address(mask_symbol));
  CORONER_TRY(ids, program.symbol_address("nr_cpu_ids"));
  CORONER_TRY(nr, program.memory().read_u32(ids));
  if (nr == 0 || nr > 65536) return make_error(Errc::corrupt, "nr_cpu_ids is {}", nr);
  std::vector<int> cpus;
  for (uint32_t word = 0; word < (nr + 63) / 64; ++word) {
    CORONER_TRY(bits, program.memory().read_u64(mask + 8 * word));
    for (int bit = 0; bit < 64; ++bit)
      if ((bits >> bit) & 1 && word * 64 + bit < nr) cpus.push_back(static_cast<int>(word * 64 + bit));
  }
  return cpus;
}

SystemInfo read_system_info(const Program& program) {
  SystemInfo info;
  auto& problems = info.problems;
  if (auto uts = keep(read_utsname(program), "utsname", problems)) info.uts = std::move(*uts);
  info.present_cpus = keep(read_cpu_mask(program, "__cpu_present_mask"), "cpus", problems).value_or(std::vector<int>{});
  info.online_cpus = keep(read_cpu_mask(program, "__cpu_online_mask"), "online cpus", problems).value_or(std::vector<int>{});
  if (info.present_cpus.empty()) {
    // No masks (odd kernel or unreadable page): one NT_PRSTATUS note per CPU.
    for (size_t i = 0; i < program.dump().prstatus().size(); ++i) info.present_cpus.push_back(static_cast<int>(i));
  }
  info.time = keep(crash_time(program), "date", problems);
  info.uptime_seconds = keep(uptime(program), "uptime", problems);
  info.load_average = keep(load_average(program), "load average", problems);
  if (auto tasks = keep(list_tasks(program), "tasks", problems)) info.tasks = tasks->size();
  for (const PhysRange& r : program.dump().ranges()) info.memory_bytes += r.size;
  if (program.arch().machine() == Machine::x86_64) info.cpu_mhz = keep(cpu_mhz(program), "cpu MHz", problems);
  info.panic = keep(panic_line(program), "panic", problems);
  return info;
}

}  // namespace coroner::linux_kernel
