#include "analyzer/os/linux/layout_inference/mm_layout_inference.hpp"

#include <algorithm>
#include <set>

namespace coroner::linux_kernel::inference {

namespace {

constexpr uint64_t kMmWindow = 4096;
constexpr uint64_t kMaxPages = 1ull << 36;
constexpr uint64_t kMaxStackPages = 1ull << 20;
constexpr uint64_t kMmCounters = 4;          // NR_MM_COUNTERS: file, anon, swap entries, shmem (4.5+)
constexpr uint64_t kPercpuCounterSize = 40;  // lock, count, list (HOTPLUG_CPU), counters

// hiwater_rss, hiwater_vm, total_vm, locked_vm, pinned_vm, data_vm,
// exec_vm, stack_vm, def_flags (4.18 to 6.x): total_vm holds the rest, the
// locked and pinned counts and the default flags are 0.
bool vm_counters_at(const Snapshot& mm, uint64_t at) {
  const uint64_t total = mm.u64(at + 16), data = mm.u64(at + 40), exec = mm.u64(at + 48), stack = mm.u64(at + 56);
  return total > 0 && total < kMaxPages && mm.u64(at + 24) == 0 && mm.u64(at + 32) == 0 && data > 0 && exec > 0 &&
         stack > 0 && stack < kMaxStackPages && data + exec + stack <= total && mm.u64(at + 64) == 0;
}

// Linux's version from the release ("6.1.0-13-amd64": 601).
int kernel_version(const Program& program) {
  int major = 0, minor = 0;
  std::sscanf(program.vmcoreinfo().osrelease().c_str(), "%d.%d", &major, &minor);
  return major * 100 + minor;
}

}  // namespace

Expected<std::vector<symbols::SyntheticStruct>> infer_mm_layouts(const MemoryProbe& probe,
                                                                 const std::vector<uint64_t>& user_tasks, uint64_t mm) {
  std::set<uint64_t> addresses;
  for (uint64_t task : user_tasks)
    if (auto address = probe.u64(task + mm); address && MemoryProbe::kernel_address(*address))
      addresses.insert(*address);
  std::vector<Snapshot> mms;
  for (uint64_t address : addresses) mms.push_back(probe.snapshot(address, kMmWindow));
  if (mms.empty()) return make_error(Errc::not_found, "struct mm_struct not found in memory: no user process");

  std::optional<uint64_t> counters;
  for (uint64_t at = 0; at + 72 <= kMmWindow && !counters; at += 8)
    if (std::all_of(mms.begin(), mms.end(), [&](const Snapshot& m) { return vm_counters_at(m, at); })) counters = at;
  if (!counters) return make_error(Errc::not_found, "mm_struct.total_vm not found in memory: no block of page counts");

  auto elf_format = probe.symbol("elf_format");
  std::optional<uint64_t> binfmt;
  for (uint64_t at = *counters; elf_format && at + 8 <= kMmWindow && !binfmt; at += 8)
    if (std::count_if(mms.begin(), mms.end(), [&](const Snapshot& m) { return m.u64(at) == *elf_format; }) * 2 >
        static_cast<ptrdiff_t>(mms.size()))
      binfmt = at;
  if (!binfmt)
    return make_error(Errc::not_found, "mm_struct.binfmt not found in memory: no field points to elf_format");

  std::vector<symbols::SyntheticStruct> layouts;
  symbols::SyntheticStruct mm_struct{"mm_struct", kMmWindow, {}};
  mm_struct.members.push_back({"total_vm", *counters + 16, "unsigned long"});
  mm_struct.members.push_back({"binfmt", *binfmt, "struct linux_binfmt *"});
  if (kernel_version(probe.program()) >= 602) {
    // 6.2 made each counter a struct percpu_counter.
    const uint64_t rss = *binfmt - kMmCounters * kPercpuCounterSize;
    mm_struct.members.push_back({"rss_stat", rss, fmt::format("struct percpu_counter[{}]", kMmCounters)});
    layouts.push_back({"percpu_counter", kPercpuCounterSize, {{"count", 8, "s64"}, {"counters", 32, "s32 *"}}});
  } else {
    const uint64_t rss = *binfmt - kMmCounters * 8;
    const bool plausible = std::all_of(mms.begin(), mms.end(), [&](const Snapshot& m) {
      for (uint64_t i = 0; i < kMmCounters; ++i)
        if (m.u64(rss + 8 * i) >= kMaxPages) return false;
      return true;
    });
    if (!plausible)
      return make_error(Errc::not_found,
                        "mm_struct.rss_stat not found in memory: the counts before binfmt are no page counts");
    mm_struct.members.push_back({"rss_stat", rss, "struct mm_rss_stat"});
    layouts.push_back({"mm_rss_stat", kMmCounters * 8, {{"count", 0, fmt::format("atomic_long_t[{}]", kMmCounters)}}});
  }
  layouts.push_back(std::move(mm_struct));
  return layouts;
}

}  // namespace coroner::linux_kernel::inference
