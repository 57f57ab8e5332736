#include "analyzer/os/linux/system_info.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/panic_message.hpp"
#include "analyzer/os/linux/printk_log.hpp"
#include "analyzer/os/linux/printk_vmcoreinfo.hpp"

#include <vector>

namespace coroner::linux_kernel {

namespace {

constexpr size_t kUtsFieldLength = 65;  // __NEW_UTS_LEN + 1, fixed by the ABI
constexpr uint64_t kNsecPerSec = 1000000000;
constexpr uint64_t kInitialJiffiesSeconds = 300;  // INITIAL_JIFFIES is -300 * HZ, as a 32-bit value

template <typename T>
std::optional<T> keep(Expected<T> value, std::string_view what, std::vector<std::string>& problems) {
  if (value) return std::move(*value);
  problems.push_back(fmt::format("{}: {}", what, value.error().message()));
  return std::nullopt;
}

// Monotonic seconds since boot: the timekeeper's xtime plus wall_to_monotonic.
Expected<uint64_t> timekeeper_uptime(const Program& program) {
  CORONER_TRY(tk, program.symbol_address("shadow_timekeeper"));
  CORONER_TRY(xtime_off, program.member_offset("struct timekeeper", "xtime_sec"));
  CORONER_TRY(wtm_off, program.member_offset("struct timekeeper", "wall_to_monotonic"));
  CORONER_TRY(xtime, program.memory().read_value<int64_t>(tk + xtime_off));
  CORONER_TRY(wtm, program.memory().read_value<int64_t>(tk + wtm_off));
  int64_t up = xtime + wtm;
  if (up < 0) return make_error(Errc::corrupt, "timekeeper gives a negative uptime ({} s)", up);
  return static_cast<uint64_t>(up);
}

Expected<uint64_t> jiffies_uptime(const Program& program) {
  CORONER_TRY(hz, tick_rate(program));
  CORONER_TRY(ticks, uptime_ticks(program));
  return ticks / hz;
}

Expected<uint64_t> cpu_mhz(const Program& program) {
  CORONER_TRY(khz, program.symbol_address("cpu_khz"));
  CORONER_TRY(value, program.memory().read_u32(khz));
  return value / 1000;
}

Expected<std::array<uint64_t, 3>> load_average(const Program& program) {
  CORONER_TRY(avenrun, program.symbol_address("avenrun"));
  std::array<uint64_t, 3> result{};
  for (int i = 0; i < 3; ++i) {
    CORONER_TRY(v, program.memory().read_u64(avenrun + 8 * i));
    result[i] = v;
  }
  return result;
}

// A node's pages as crash counts them: present, else spanned.
Expected<uint64_t> node_pages(const Object& pgdat) {
  CORONER_TRY(present_member, pgdat.member("node_present_pages"));
  CORONER_TRY(present, present_member.read_unsigned());
  if (present) return present;
  CORONER_TRY(spanned_member, pgdat.member("node_spanned_pages"));
  return spanned_member.read_unsigned();
}

// The pages of every node: node_data[] with NUMA (a NULL entry is a node
// not online), contig_page_data without.
Expected<uint64_t> node_memory_bytes(const Program& program) {
  uint64_t pages = 0;
  if (auto contig = kernel_object(program, "contig_page_data")) {
    CORONER_TRY(count, node_pages(*contig));
    pages = count;
  } else {
    CORONER_TRY(nodes, kernel_object(program, "node_data"));
    CORONER_TRY(array, nodes.underlying_type());
    if (array->kind() != symbols::TypeKind::array) return make_error(Errc::corrupt, "node_data is not an array");
    // Without DWARF (BTF has no type for it) its length comes from the
    // symbol's size: up to the next symbol, the extra slots are NULL.
    uint64_t length = array->length().value_or(0);
    if (!array->length()) {
      CORONER_TRY(bytes, nodes.byte_size());
      length = bytes / sizeof(uint64_t);
    }
    for (uint64_t i = 0; i < length; ++i) {
      CORONER_TRY(pointer, nodes.index(static_cast<int64_t>(i)));
      CORONER_TRY(address, pointer.read_unsigned());
      if (address == 0) continue;
      CORONER_TRY(pgdat, pointer.deref());
      auto count = node_pages(pgdat);
      if (!count) return count.error().context(fmt::format("node {}", i));
      pages += *count;
    }
  }
  if (pages == 0) return make_error(Errc::corrupt, "the memory nodes count no pages");
  return pages * program.arch().page_size();
}

Expected<std::string> panic_line(const Program& program) {
  CORONER_TRY(log, read_printk_log(printk_vmcoreinfo(program), program.memory()));
  auto message = find_panic_message(log);
  if (!message) return make_error(Errc::not_found, "no panic or oops message in the kernel log");
  return *message;
}

}  // namespace

Expected<uint64_t> tick_rate(const Program& program) {
  CORONER_TRY(tick_nsec_address, program.symbol_address("tick_nsec"));
  CORONER_TRY(tick_nsec, program.memory().read_u64(tick_nsec_address));
  if (tick_nsec == 0 || tick_nsec > kNsecPerSec)
    return make_error(Errc::corrupt, "tick_nsec at {:#x} is {}", tick_nsec_address, tick_nsec);
  return (kNsecPerSec + tick_nsec / 2) / tick_nsec;
}


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
  // Without symbols (no vmlinux, kallsyms not found), VMCOREINFO still says the release.
  if (info.uts.release.empty()) info.uts.release = program.vmcoreinfo().osrelease();
  info.present_cpus = keep(read_cpu_mask(program, "__cpu_present_mask"), "cpus", problems).value_or(std::vector<int>{});
  info.online_cpus = keep(read_cpu_mask(program, "__cpu_online_mask"), "online cpus", problems).value_or(std::vector<int>{});
  if (info.present_cpus.empty()) {
    // No masks (odd kernel or unreadable page): one NT_PRSTATUS note per CPU.
    for (size_t i = 0; i < program.dump().prstatus().size(); ++i) info.present_cpus.push_back(static_cast<int>(i));
  }
  info.time = keep(crash_time(program), "date", problems);
  info.uptime_seconds = keep(uptime_seconds(program), "uptime", problems);
  info.load_average = keep(load_average(program), "load average", problems);
  if (auto bytes = keep(node_memory_bytes(program), "memory", problems)) {
    info.memory_bytes = *bytes;
  } else {
    for (const PhysRange& r : program.dump().ranges()) info.memory_bytes += r.size;
  }
  if (program.arch().machine() == Machine::x86_64) info.cpu_mhz = keep(cpu_mhz(program), "cpu MHz", problems);
  if (auto mask = keep(program.symbol_address("tainted_mask"), "tainted_mask", problems))
    info.tainted_mask = keep(program.memory().read_u64(*mask), "tainted_mask", problems);
  info.panic = keep(panic_line(program), "panic", problems);
  return info;
}

Expected<int64_t> crash_time(const Program& program) {
  if (auto t = program.vmcoreinfo().crash_time()) return *t;
  // QEMU dumps have no CRASHTIME: the timekeeper's wall clock is the time.
  CORONER_TRY(tk, program.symbol_address("shadow_timekeeper"));
  CORONER_TRY(xtime, program.member_offset("struct timekeeper", "xtime_sec"));
  return program.memory().read_value<int64_t>(tk + xtime);
}

Expected<uint64_t> uptime_ticks(const Program& program) {
  CORONER_TRY(hz, tick_rate(program));
  CORONER_TRY(jiffies_address, program.symbol_address("jiffies_64"));
  CORONER_TRY(jiffies, program.memory().read_u64(jiffies_address));
  uint64_t initial = static_cast<uint32_t>(0 - kInitialJiffiesSeconds * hz);
  return jiffies - initial;
}

Expected<uint64_t> uptime_seconds(const Program& program) {
  auto jiffies = jiffies_uptime(program);
  if (jiffies) return jiffies;
  auto monotonic = timekeeper_uptime(program);
  if (monotonic) return monotonic;
  return jiffies.error();
}

Expected<int64_t> boot_time(const Program& program) {
  CORONER_TRY(now, crash_time(program));
  CORONER_TRY(up, uptime_seconds(program));
  return now - static_cast<int64_t>(up);
}

}  // namespace coroner::linux_kernel
