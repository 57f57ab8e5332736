#include "analyzer/arch/freebsd_minidump_paging.hpp"

#include "analyzer/arch/aarch64/aarch64_paging.hpp"
#include "analyzer/arch/x86_64/x86_64_paging.hpp"

namespace coroner::arch {
namespace {

// x86 entry bits (lib/libkvm/kvm_amd64.h).
constexpr uint64_t kX86Valid = 1, kX86PageSize = 1 << 7;
constexpr uint64_t kX86Frame = 0x000ffffffffff000ULL, kX86LargeFrame = 0x000fffffffe00000ULL;
constexpr unsigned kPdeShift = 21;
constexpr uint64_t kAmd64PageSize = 4096;
// arm64: an L3 page descriptor has bits 1:0 = 3; the output address is
// bits 49:12 (upper attributes, DBM, contiguous and software bits masked).
constexpr uint64_t kArm64AttrMask = 0xfffc000000000fffULL;

Translation failed(Translation t, Errc code, std::string message) {
  t.error = Error(code, std::move(message));
  return t;
}

// Reads section entry `index`, recording it as a step named `level`.
Expected<uint64_t> section_step(Translation& t, const SectionReader& section, uint64_t index, const char* level,
                                std::string flags_of_entry(uint64_t)) {
  CORONER_TRY(entry, section(index));
  t.steps.push_back({level, 0, static_cast<unsigned>(index), index * 8, entry, flags_of_entry(entry)});
  return entry;
}

std::string x86_pde_flags(uint64_t entry) { return x86_64_entry_flags(entry, false); }
std::string x86_pte_flags(uint64_t entry) { return x86_64_entry_flags(entry, true); }
std::string arm64_l3_flags(uint64_t entry) {
  return aarch64_entry_flags(entry, (entry & 3) == 3 ? Aarch64Descriptor::page : Aarch64Descriptor::invalid, false);
}

Translation translate_amd64(const freebsd::MinidumpHeader& h, uint64_t vaddr, const SectionReader& section,
                            const EntryReader& physical) {
  Translation t;
  t.vaddr = vaddr;
  const uint64_t entries = h.pmap_size / 8;
  // A present entry of the dumped kernel page table (v1: PTEs, else PDEs).
  auto kernel_entry = [&](uint64_t index, const char* level, std::string flags(uint64_t)) -> Expected<uint64_t> {
    if (index >= entries)
      return make_error(Errc::not_mapped, "{:#x}: beyond the minidump's kernel page table ({} {}s from {:#x})", vaddr,
                        entries, level, h.kernbase);
    CORONER_TRY(entry, section_step(t, section, index, level, flags));
    if (!minidump_entry_valid(h, entry))
      return make_error(Errc::not_mapped, "{:#x}: minidump {} {} is not present ({:#x})", vaddr, level, index, entry);
    return entry;
  };
  if (vaddr >= h.kernbase) {
    const uint64_t offset = vaddr - h.kernbase;
    if (h.version == 1) {
      auto pte = kernel_entry(offset >> 12, "PTE", x86_pte_flags);
      if (!pte) return failed(t, pte.error().code(), pte.error().message());
      t.paddr = (*pte & kX86Frame) | (vaddr & (kAmd64PageSize - 1));
      t.page_size = kAmd64PageSize;
      return t;
    }
    const uint64_t index = offset >> kPdeShift;
    auto pde = kernel_entry(index, "PDE", x86_pde_flags);
    if (!pde) return failed(t, pde.error().code(), pde.error().message());
    if (*pde & kX86PageSize) {
      t.paddr = (*pde & kX86LargeFrame) | (vaddr & ((uint64_t{1} << kPdeShift) - 1));
      t.page_size = uint64_t{1} << kPdeShift;
      return t;
    }
    uint64_t table = *pde & kX86Frame;
    unsigned pte_index = (vaddr >> 12) & 511;
    auto pte = physical(table + pte_index * 8);
    if (!pte)
      return failed(t, pte.error().code(), fmt::format("{:#x}: page-table page of minidump PDE {}: {}", vaddr, index,
                                                       pte.error().message()));
    t.steps.push_back({"PTE", table, pte_index, table + pte_index * 8, *pte, x86_pte_flags(*pte)});
    if (!(*pte & kX86Valid))
      return failed(t, Errc::not_mapped, fmt::format("{:#x}: PTE at physical {:#x} is not present ({:#x})", vaddr,
                                                     table + pte_index * 8, *pte));
    t.paddr = (*pte & kX86Frame) | (vaddr & (kAmd64PageSize - 1));
    t.page_size = kAmd64PageSize;
    return t;
  }
  if (vaddr >= h.dmap_base && vaddr < h.dmap_end) {
    t.paddr = vaddr - h.dmap_base;
    t.page_size = kAmd64PageSize;
    return t;
  }
  return failed(t, Errc::not_mapped, fmt::format("{:#x}: neither in the minidump's kernel map (from {:#x}) nor in its "
                                                 "direct map [{:#x}, {:#x})",
                                                 vaddr, h.kernbase, h.dmap_base, h.dmap_end));
}

Translation translate_arm64(const freebsd::MinidumpHeader& h, uint64_t vaddr, const SectionReader& section) {
  Translation t;
  t.vaddr = vaddr;
  const uint64_t page = h.page_size();
  t.page_size = page;
  if (vaddr >= h.dmap_base && vaddr < h.dmap_end) {
    t.paddr = vaddr - h.dmap_base + h.dmap_phys;
    return t;
  }
  uint64_t entries = h.pmap_size / 8;
  uint64_t index = vaddr >= h.kernbase ? (vaddr - h.kernbase) / page : entries;
  if (index >= entries)
    return failed(t, Errc::not_mapped, fmt::format("{:#x}: neither in the minidump's direct map [{:#x}, {:#x}) nor in "
                                                   "its kernel map ({} pages from {:#x})",
                                                   vaddr, h.dmap_base, h.dmap_end, entries, h.kernbase));
  auto l3 = section_step(t, section, index, "L3", arm64_l3_flags);
  if (!l3) return failed(t, l3.error().code(), l3.error().message());
  if (!minidump_entry_valid(h, *l3))
    return failed(t, Errc::not_mapped, fmt::format("{:#x}: minidump L3 entry {} is not a valid page ({:#x})", vaddr,
                                                   index, *l3));
  t.paddr = (*l3 & ~kArm64AttrMask & ~(page - 1)) | (vaddr & (page - 1));
  return t;
}

}  // namespace

uint64_t minidump_entry_span(const freebsd::MinidumpHeader& header) {
  if (header.arch == freebsd::MinidumpArch::amd64)
    return header.version == 1 ? kAmd64PageSize : uint64_t{1} << kPdeShift;
  return header.page_size();
}

bool minidump_entry_valid(const freebsd::MinidumpHeader& header, uint64_t entry) {
  return header.arch == freebsd::MinidumpArch::amd64 ? (entry & kX86Valid) != 0 : (entry & 3) == 3;
}

Translation translate_minidump(const freebsd::MinidumpHeader& header, uint64_t vaddr, const SectionReader& section,
                               const EntryReader& physical) {
  if (header.arch == freebsd::MinidumpArch::amd64) return translate_amd64(header, vaddr, section, physical);
  return translate_arm64(header, vaddr, section);
}

}  // namespace coroner::arch
