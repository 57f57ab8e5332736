#include "analyzer/arch/x86_64/x86_64_paging.hpp"

#include <array>
#include <span>

namespace coroner::arch {
namespace {

constexpr uint64_t kPresent = 1ULL << 0;
constexpr uint64_t kPageSize = 1ULL << 7;  // PSE: this entry maps a 1G/2M page
// Physical address bits 51:12 of an entry; bits 62:52 are software and
// protection-key bits, bit 63 is NX.
constexpr uint64_t kAddressMask = 0x000ffffffffff000ULL;
constexpr unsigned kEntriesPerTable = 512;

struct Level {
  const char* name;
  unsigned shift;  // of the virtual-address bits this level indexes
};

constexpr std::array<Level, 5> kFiveLevels{{{"PGD", 48}, {"P4D", 39}, {"PUD", 30}, {"PMD", 21}, {"PTE", 12}}};
constexpr std::array<Level, 4> kFourLevels{{{"PGD", 39}, {"PUD", 30}, {"PMD", 21}, {"PTE", 12}}};

}  // namespace

bool X86_64Paging::is_canonical(uint64_t vaddr) const {
  // Sign-extend from bit va_bits-1 and compare.
  unsigned unused = 64 - va_bits();
  return static_cast<uint64_t>(static_cast<int64_t>(vaddr << unused) >> unused) == vaddr;
}

std::string x86_64_entry_flags(uint64_t entry, bool is_pte) {
  struct Bit {
    uint64_t mask;
    const char* name;
  };
  const std::array<Bit, 10> bits{{{1ULL << 0, "PRESENT"},
                                  {1ULL << 1, "RW"},
                                  {1ULL << 2, "USER"},
                                  {1ULL << 3, "PWT"},
                                  {1ULL << 4, "PCD"},
                                  {1ULL << 5, "ACCESSED"},
                                  {1ULL << 6, "DIRTY"},
                                  {kPageSize, is_pte ? "PAT" : "PSE"},
                                  {1ULL << 8, "GLOBAL"},
                                  {1ULL << 63, "NX"}}};
  std::string out;
  for (const Bit& bit : bits) {
    if (!(entry & bit.mask)) continue;
    if (!out.empty()) out += '|';
    out += bit.name;
  }
  return out;
}

Translation walk_x86_64(const X86_64Paging& paging, uint64_t root, uint64_t vaddr, const EntryReader& read) {
  Translation t;
  t.vaddr = vaddr;
  t.root = root & kAddressMask & ~paging.sme_mask;
  if (!paging.is_canonical(vaddr)) {
    t.error = make_error(Errc::not_mapped, "virtual address {:#x}: not canonical for {}-level paging (bits 63:{} must all equal bit {})",
                         vaddr, paging.levels, paging.va_bits() - 1, paging.va_bits() - 1);
    return t;
  }
  std::span<const Level> levels = paging.levels == 5 ? std::span<const Level>(kFiveLevels) : std::span<const Level>(kFourLevels);

  uint64_t table = t.root;
  for (const Level& level : levels) {
    WalkStep step;
    step.level = level.name;
    step.table = table;
    step.index = static_cast<unsigned>((vaddr >> level.shift) % kEntriesPerTable);
    step.entry_addr = table + step.index * sizeof(uint64_t);
    auto entry = read(step.entry_addr);
    if (!entry) {
      t.error = entry.error().context(fmt::format("virtual address {:#x}: reading {} entry at physical {:#x}", vaddr,
                                                  level.name, step.entry_addr));
      return t;
    }
    bool is_pte = level.shift == 12;
    step.entry = *entry;
    step.flags = x86_64_entry_flags(step.entry, is_pte);
    t.steps.push_back(step);

    if (!(step.entry & kPresent)) {
      t.error = make_error(Errc::not_mapped, "virtual address {:#x}: {} entry {:#x} at physical {:#x} not present", vaddr,
                           level.name, step.entry, step.entry_addr);
      return t;
    }
    uint64_t address = step.entry & kAddressMask & ~paging.sme_mask;
    bool leaf = is_pte || (step.entry & kPageSize);
    if (leaf && level.shift > 30) {
      // PS is reserved in PML5E/PML4E: no 512G pages exist.
      t.error = make_error(Errc::corrupt, "virtual address {:#x}: {} entry {:#x} at physical {:#x} has the reserved page-size bit set",
                           vaddr, level.name, step.entry, step.entry_addr);
      return t;
    }
    if (leaf) {
      t.page_size = uint64_t{1} << level.shift;
      // In a 2M/1G entry bit 12 is PAT, not address: align to the page.
      t.paddr = (address & ~(t.page_size - 1)) | (vaddr & (t.page_size - 1));
      return t;
    }
    table = address;
  }
  return t;  // unreachable: the PTE level is always a leaf
}

}  // namespace coroner::arch
