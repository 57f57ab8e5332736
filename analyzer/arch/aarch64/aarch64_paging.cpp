#include "analyzer/arch/aarch64/aarch64_paging.hpp"

#include <algorithm>

namespace coroner::arch {

namespace {

constexpr uint64_t bit(unsigned n) { return uint64_t{1} << n; }
// Bits [high:low] set.
constexpr uint64_t bits(unsigned high, unsigned low) { return (~uint64_t{0} >> (63 - high)) & ~(bit(low) - 1); }

const char* granule_name(unsigned page_shift) {
  switch (page_shift) {
    case 12: return "4K";
    case 14: return "16K";
    default: return "64K";
  }
}

}  // namespace

const char* Aarch64Paging::level_name(unsigned step) const {
  // Linux folds the missing middle levels: 3 levels have no PUD, 2 no PMD either.
  static const char* const names[6][5] = {
      {}, {}, {"PGD", "PTE"}, {"PGD", "PMD", "PTE"}, {"PGD", "PUD", "PMD", "PTE"}, {"PGD", "P4D", "PUD", "PMD", "PTE"}};
  return names[levels][step];
}

bool Aarch64Paging::block_allowed(unsigned step) const {
  int level = hw_level(step);
  switch (page_shift) {
    case 12: return level == 1 || level == 2 || (level == 0 && lpa2);  // 1G, 2M (512G with LPA2)
    case 14: return level == 2 || (level == 1 && lpa2);                 // 32M (64G with LPA2)
    default: return level == 2 || (level == 1 && lpa);                  // 512M (4T with LPA)
  }
}

uint64_t Aarch64Paging::output_address(uint64_t entry, unsigned shift) const {
  if (lpa2) return (entry & bits(49, shift)) | (((entry >> 8) & 3) << 50);
  if (lpa) return (entry & bits(47, shift)) | (((entry >> 12) & 0xf) << 48);
  return entry & bits(47, shift);
}

Expected<Aarch64Paging> make_aarch64_paging(uint64_t page_size, unsigned va_bits, bool lpa) {
  Aarch64Paging p;
  switch (page_size) {
    case 4096: p.page_shift = 12; break;
    case 16384: p.page_shift = 14; break;
    case 65536: p.page_shift = 16; break;
    default: return make_error(Errc::unsupported, "arm64: page size {} is not a granule (4K, 16K or 64K)", page_size);
  }
  unsigned per_level = p.bits_per_level();
  // At least two levels; 49..51 bits and 52 bits without 52-bit PA do not exist.
  bool known_size = va_bits <= 48 || (va_bits == 52 && (lpa || p.page_shift == 16));
  if (va_bits <= p.page_shift + per_level || !known_size)
    return make_error(Errc::unsupported, "arm64: {}-bit virtual addresses with the {} granule{} are not supported",
                      va_bits, granule_name(p.page_shift), lpa ? " and 52-bit PA" : "");
  p.va_bits = va_bits;
  p.levels = (va_bits - p.page_shift + per_level - 1) / per_level;
  p.lpa = lpa && p.page_shift == 16;
  p.lpa2 = lpa && p.page_shift != 16 && va_bits == 52;
  return p;
}

std::string aarch64_entry_flags(uint64_t entry, Aarch64Descriptor kind, bool lpa2) {
  if (kind == Aarch64Descriptor::invalid) return "INVALID";
  std::string out = "VALID";
  auto add = [&](bool set, std::string_view name) {
    if (set) out.append("|").append(name);
  };
  if (kind == Aarch64Descriptor::table) {
    out += "|TABLE";
    add(entry & bit(59), "PXNTABLE");
    add(entry & bit(60), "UXNTABLE");
    add(entry & bit(61), "APTABLE_NO_EL0");
    add(entry & bit(62), "APTABLE_RDONLY");
    add(entry & bit(63), "NSTABLE");
    return out;
  }
  out += kind == Aarch64Descriptor::block ? "|BLOCK" : "|PAGE";
  add(entry & bit(5), "NS");
  add(entry & bit(6), "USER");    // AP[1]: EL0 access
  add(entry & bit(7), "RDONLY");  // AP[2]
  if (!lpa2) {  // with LPA2 bits 9:8 are address bits
    unsigned sh = (entry >> 8) & 3;
    add(sh == 3, "SHARED");
    add(sh == 2, "OUTER_SHARED");
    add(sh == 1, "SH_RESERVED");
  }
  add(entry & bit(10), "AF");
  add(entry & bit(11), "NG");
  add(entry & bit(51), "DBM");
  add(entry & bit(52), "CONT");
  add(entry & bit(53), "PXN");
  add(entry & bit(54), "UXN");
  // Linux's software bits, stable since the first arm64 kernels.
  add(entry & bit(55), "DIRTY");
  add(entry & bit(56), "SPECIAL");
  out += fmt::format("|ATTRINDX={}", (entry >> 2) & 7);
  return out;
}

Translation walk_aarch64(const Aarch64Paging& p, uint64_t root, uint64_t vaddr, const EntryReader& read) {
  Translation t;
  t.vaddr = vaddr;
  t.root = root;
  // Bit 55 selects TTBR1 (kernel) or TTBR0 (user); bits 55..va_bits must
  // all equal it. Bits 63:56 are a tag (TBI) or PAC and are not translated.
  bool kernel = vaddr & bit(55);
  uint64_t region = bits(55, p.va_bits);
  if ((vaddr & region) != (kernel ? region : 0)) {
    t.error = make_error(Errc::not_mapped, "{:#x}: not in the {} range of a {}-bit address space", vaddr,
                         kernel ? "TTBR1 (kernel)" : "TTBR0 (user)", p.va_bits);
    return t;
  }
  uint64_t table = root;
  for (unsigned step = 0; step < p.levels; ++step) {
    unsigned shift = p.shift(step);
    unsigned width = std::min(p.bits_per_level(), p.va_bits - shift);
    unsigned index = static_cast<unsigned>((vaddr >> shift) & (bit(width) - 1));
    uint64_t entry_addr = table + uint64_t{index} * 8;
    const char* name = p.level_name(step);
    auto entry = read(entry_addr);
    if (!entry) {
      t.error = entry.error().context(fmt::format("{:#x}: {} entry {}", vaddr, name, index));
      return t;
    }
    WalkStep s{name, table, index, entry_addr, *entry, {}};
    bool last = step + 1 == p.levels;
    Aarch64Descriptor kind = !(*entry & 1)  ? Aarch64Descriptor::invalid
                             : *entry & 2  ? (last ? Aarch64Descriptor::page : Aarch64Descriptor::table)
                             : last        ? Aarch64Descriptor::invalid  // 0b01 at the last level is reserved
                                           : Aarch64Descriptor::block;
    s.flags = aarch64_entry_flags(*entry, kind, p.lpa2);
    t.steps.push_back(std::move(s));
    if (kind == Aarch64Descriptor::invalid) {
      t.error = make_error(Errc::not_mapped, "{:#x}: not mapped: {} entry {} at physical {:#x} is {} ({:#x})", vaddr,
                           name, index, entry_addr, *entry & 1 ? "a reserved descriptor" : "invalid", *entry);
      return t;
    }
    if (kind == Aarch64Descriptor::table) {
      table = p.output_address(*entry, p.page_shift);
      continue;
    }
    if (kind == Aarch64Descriptor::block && !p.block_allowed(step)) {
      t.error = make_error(Errc::corrupt, "{:#x}: {} entry {} at physical {:#x} is a block ({:#x}), not allowed at level {} of the {} granule",
                           vaddr, name, index, entry_addr, *entry, p.hw_level(step), granule_name(p.page_shift));
      return t;
    }
    uint64_t size = bit(shift);
    t.page_size = size;
    t.paddr = p.output_address(*entry, shift) + (vaddr & (size - 1));
    return t;
  }
  return t;  // unreachable: the last level always ends the walk
}

}  // namespace coroner::arch
