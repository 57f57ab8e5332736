// x86_64 page-table walks: 4-level (48-bit) and 5-level (LA57, 57-bit)
// paging with 4K, 2M and 1G pages, as the SDM describes them. Pure: the
// walker asks its caller for every entry and never reads a file.
#pragma once

#include "analyzer/arch/translation.hpp"

#include <cstdint>
#include <string>

namespace coroner::arch {

struct X86_64Paging {
  unsigned levels = 4;     // 4 or 5 (LA57)
  // AMD SME/SEV encryption bit(s) that entries carry inside the address
  // field (VMCOREINFO's NUMBER(sme_mask)); cleared before use.
  uint64_t sme_mask = 0;

  unsigned va_bits() const { return levels == 5 ? 57 : 48; }
  // Bits 63:va_bits-1 all equal.
  bool is_canonical(uint64_t vaddr) const;
  // Lowest non-canonical address above user space: 2^47 or 2^56.
  uint64_t user_limit() const { return uint64_t{1} << (va_bits() - 1); }
};

// Walks the tables rooted at physical `root` (low 12 bits, as a CR3 value
// may carry PCID bits there, are ignored). Level names follow crash:
// PGD P4D PUD PMD PTE for 5-level, PGD PUD PMD PTE for 4-level.
Translation walk_x86_64(const X86_64Paging& paging, uint64_t root, uint64_t vaddr, const EntryReader& read);

// "PRESENT|RW|USER|ACCESSED|NX"... Bit 7 reads PSE above the PTE level and
// PAT in a PTE, where it selects the memory type instead.
std::string x86_64_entry_flags(uint64_t entry, bool is_pte);

}  // namespace coroner::arch
