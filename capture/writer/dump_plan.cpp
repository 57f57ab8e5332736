#include "capture/writer/dump_plan.hpp"

#include "capture/format/kdump_compressed.hpp"
#include "capture/writer/input_trimmer.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <ctime>

namespace coroner::capture {
namespace {

constexpr size_t kUtsFieldSize = 65;  // each field of struct new_utsname

void append_padded(std::vector<std::byte>& out, const void* data, size_t size) {
  auto* bytes = static_cast<const std::byte*>(data);
  out.insert(out.end(), bytes, bytes + size);
  out.resize((out.size() + 3) & ~size_t{3}, std::byte{0});
}

// struct new_utsname of init_uts_ns, located through VMCOREINFO as
// makedumpfile does: OFFSET(uts_namespace.name) where the kernel exports
// it, else the layout of kernels before that export (a struct kref, one
// int, ahead of the name). Falls back to what VMCOREINFO itself says.
Utsname read_utsname(const VmcoreInfo& info, const KernelMemory& memory, Machine machine) {
  Utsname fallback{"Linux", "", info.osrelease(), "", machine == Machine::aarch64 ? "aarch64" : "x86_64", ""};
  auto base = info.symbol("init_uts_ns");
  if (!base) return fallback;
  uint64_t address = *base + info.offset("uts_namespace.name").value_or(sizeof(int32_t));
  std::vector<std::byte> raw(6 * kUtsFieldSize);
  if (!memory.read(address, raw)) return fallback;
  auto field = [&](int i) {
    const char* p = reinterpret_cast<const char*>(raw.data()) + i * kUtsFieldSize;
    return std::string(p, strnlen(p, kUtsFieldSize - 1));
  };
  Utsname uts{field(0), field(1), field(2), field(3), field(4), field(5)};
  // Only trust what reads as the kernel's own release.
  if (!info.osrelease().empty() && uts.release != info.osrelease()) return fallback;
  return uts;
}

uint64_t phys_base_of(const VmcoreInfo& info, Machine machine) {
  // The kdump sub-header's phys_base: x86_64's phys_base, arm64's
  // PHYS_OFFSET (what makedumpfile and crash put and expect there).
  auto value = info.number(machine == Machine::aarch64 ? "PHYS_OFFSET" : "phys_base");
  return value ? static_cast<uint64_t>(*value) : 0;
}

}  // namespace

std::vector<std::byte> encode_elf_notes(const std::vector<ElfNote>& notes) {
  std::vector<std::byte> out;
  for (const ElfNote& note : notes) {
    Elf64_Nhdr header{};
    header.n_namesz = static_cast<Elf64_Word>(note.name.size() + 1);
    header.n_descsz = static_cast<Elf64_Word>(note.desc.size());
    header.n_type = note.type;
    append_padded(out, &header, sizeof header);
    std::string name = note.name;
    append_padded(out, name.c_str(), name.size() + 1);
    append_padded(out, note.desc.data(), note.desc.size());
  }
  return out;
}

namespace {

void add_stats(FilterStats& total, const FilterStats& window) {
  total.total += window.total;
  total.zero += window.zero;
  total.cache += window.cache;
  total.cache_private += window.cache_private;
  total.user += window.user;
  total.free += window.free;
  total.hwpoison += window.hwpoison;
  total.offline += window.offline;
  total.kept += window.kept;
}

}  // namespace

Expected<void> DumpPlan::select_window(uint64_t start) {
  if (one_window() && counted_end == max_pfn) return {};  // decided when the plan was made
  keep = PfnBitmap();  // one window's bitmap in memory at a time, not two
  CORONER_TRY(filter, selector->window(start, start + window_pfns));
  if (trimmer) trimmer->trim();  // the struct pages just read
  keep = std::move(filter.keep);
  bool counting = start >= counted_end;
  // makedumpfile's bitmaps leave out a page a RAM range ends in part way
  // (x86's 0x9f000 below the EBDA).
  for (const PhysRange& r : ranges)
    if (r.end() % page_size) keep.clear(r.end() / page_size);
  if (auto* kdump = dynamic_cast<const KdumpDump*>(input)) {
    // Re-filtering a kdump-compressed dump: pages it excluded stay out.
    for (uint64_t pfn = keep.first_pfn(); pfn < keep.max_pfn(); ++pfn)
      if (keep.test(pfn) && !kdump->page_dumped(pfn)) {
        keep.clear(pfn);
        if (counting) ++missing_in_input;
      }
  }
  if (counting) {
    add_stats(stats, filter.stats);
    counted_end = keep.max_pfn();
  }
  auto run = std::lower_bound(dropped.begin(), dropped.end(), keep.first_pfn(),
                              [](const PfnRun& r, uint64_t pfn) { return r.end <= pfn; });
  for (; run != dropped.end() && run->first < keep.max_pfn(); ++run)
    for (uint64_t pfn = std::max(run->first, keep.first_pfn()); pfn < std::min(run->end, keep.max_pfn()); ++pfn)
      keep.clear(pfn);
  return {};
}

void DumpPlan::drop(uint64_t pfn) {
  keep.clear(pfn);
  if (!dropped.empty() && dropped.back().end == pfn) ++dropped.back().end;
  else if (dropped.empty() || dropped.back().end < pfn) dropped.push_back({pfn, pfn + 1});
}

Expected<DumpPlan> make_dump_plan(const Dump& dump, const VmcoreInfo& info, const KernelMemory& memory,
                                  PageSelector selector, unsigned dump_level, uint64_t window_pfns,
                                  MappedInputTrimmer* trimmer) {
  DumpPlan plan;
  plan.dump = &dump;
  plan.input = &dump;
  plan.machine = dump.machine();
  plan.page_size = memory.arch().page_size();
  plan.ranges = dump.ranges();
  if (plan.ranges.empty()) return make_error(Errc::corrupt, "{}: the dump describes no RAM", dump.files().front());
  plan.max_pfn = (plan.ranges.back().end() + plan.page_size - 1) / plan.page_size;
  if (selector.max_pfn() != plan.max_pfn)
    return make_error(Errc::corrupt, "page filter covers {:#x} page frames, the dump's RAM {:#x}",
                      selector.max_pfn(), plan.max_pfn);
  // makedumpfile's 1st bitmap: from the page holding a range's start to the
  // last page the range fills; a page the range ends in part way is left
  // out of both bitmaps. Kept as runs, not a bitmap: a terabyte machine's
  // would be 32 MiB.
  for (const PhysRange& r : plan.ranges) {
    PfnRun run{r.start / plan.page_size, r.end() / plan.page_size};
    if (run.first >= run.end) continue;
    if (!plan.ram.empty() && run.first <= plan.ram.back().end)
      plan.ram.back().end = std::max(plan.ram.back().end, run.end);
    else
      plan.ram.push_back(run);
  }
  constexpr uint64_t kWindowAlign = 4096;  // the filter's struct page chunk
  if (window_pfns == 0) window_pfns = kDefaultWindowPfns;
  plan.window_pfns = window_pfns >= plan.max_pfn ? plan.max_pfn
                                                 : (window_pfns + kWindowAlign - 1) / kWindowAlign * kWindowAlign;
  plan.selector = std::make_shared<PageSelector>(std::move(selector));
  plan.trimmer = trimmer;
  plan.dump_level = dump_level;
  if (plan.one_window()) CORONER_CHECK(plan.select_window(0));

  if (auto* kdump = dynamic_cast<const KdumpDump*>(&dump)) plan.phys_base = kdump->sub_header().phys_base;
  else plan.phys_base = phys_base_of(info, plan.machine);
  plan.timestamp = info.crash_time().value_or(std::time(nullptr));
  if (auto uts = dump.utsname(); uts && !uts->machine.empty()) plan.utsname = *uts;
  else plan.utsname = read_utsname(info, memory, plan.machine);

  std::vector<ElfNote> notes = dump.notes();
  bool has_vmcoreinfo_note = std::any_of(notes.begin(), notes.end(), [](const ElfNote& n) { return n.name == "VMCOREINFO"; });
  if (auto text = dump.vmcoreinfo_text(); text && !has_vmcoreinfo_note) {
    // A kdump input may keep VMCOREINFO beside its notes; ours carry it as one.
    ElfNote note{"VMCOREINFO", kNtVmcoreinfo, {}, 0};
    auto* bytes = reinterpret_cast<const std::byte*>(text->data());
    note.desc.assign(bytes, bytes + text->size());
    notes.push_back(std::move(note));
  }
  plan.nr_cpus = static_cast<int>(std::count_if(notes.begin(), notes.end(), [](const ElfNote& n) {
    return n.type == kNtPrstatus && n.name == "CORE";
  }));
  plan.note_area = encode_elf_notes(notes);
  uint64_t at = 0;
  for (const ElfNote& note : notes) {
    uint64_t desc_at = at + sizeof(Elf64_Nhdr) + ((note.name.size() + 1 + 3) & ~uint64_t{3});
    if (note.name == "VMCOREINFO" && plan.vmcoreinfo_size == 0) {
      plan.vmcoreinfo_offset = desc_at;
      plan.vmcoreinfo_size = note.desc.size();
    }
    at = desc_at + ((note.desc.size() + 3) & ~uint64_t{3});
  }
  return plan;
}

}  // namespace coroner::capture
