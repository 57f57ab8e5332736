#include "analyzer/arch/pte_decode.hpp"

#include <bit>
#include <utility>

namespace coroner::arch {

namespace {

using Bits = std::vector<std::pair<uint64_t, const char*>>;

void add_set(const Bits& bits, uint64_t pte, std::vector<std::string>& out) {
  for (const auto& [mask, name] : bits)
    if ((pte & mask) == mask) out.push_back(name);
}

// Bit 7 is PSE only in an entry that is present; bit 8 is GLOBAL, and
// PROTNONE where the entry is not present (Linux reuses it).
DecodedPte decode_x86_64(uint64_t pte) {
  constexpr uint64_t kPresent = 1 << 0, kPse = 1 << 7, kGlobal = 1 << 8, kNx = uint64_t{1} << 63;
  constexpr uint64_t kAddress = ((uint64_t{1} << 52) - 1) & ~uint64_t{0xfff};
  DecodedPte d;
  d.maps_page = pte & (kPresent | kGlobal);
  d.physical = pte & kAddress;
  add_set({{kPresent, "PRESENT"}, {1 << 1, "RW"}, {1 << 2, "USER"}, {1 << 3, "PWT"}, {1 << 4, "PCD"},
           {1 << 5, "ACCESSED"}, {1 << 6, "DIRTY"}},
          pte, d.flags);
  if ((pte & kPse) && (pte & kPresent)) d.flags.push_back("PSE");
  if ((pte & kGlobal) && !(pte & kPresent)) d.flags.push_back("PROTNONE");
  add_set({{kGlobal, "GLOBAL"}, {kNx, "NX"}}, pte, d.flags);
  return d;
}

// Linux's arm64 software bits: PROT_NONE 58, DIRTY 55, SPECIAL 56. The
// output address is bits 47 down to the page shift (48-bit physical).
DecodedPte decode_aarch64(uint64_t page_size, uint64_t pte) {
  constexpr uint64_t kValid = 1, kProtNone = uint64_t{1} << 58;
  const unsigned shift = static_cast<unsigned>(std::countr_zero(page_size));
  DecodedPte d;
  d.maps_page = pte & (kValid | kProtNone);
  d.physical = pte & (((uint64_t{1} << 48) - 1) & ~((uint64_t{1} << shift) - 1));
  add_set({{kValid, "VALID"}, {kProtNone, "PROT_NONE"}, {1 << 6, "USER"}, {1 << 7, "RDONLY"}, {3 << 8, "SHARED"},
           {1 << 10, "AF"}, {1 << 11, "NG"}, {uint64_t{1} << 53, "PXN"}, {uint64_t{1} << 54, "UXN"},
           {uint64_t{1} << 55, "DIRTY"}, {uint64_t{1} << 56, "SPECIAL"}},
          pte, d.flags);
  return d;
}

}  // namespace

DecodedPte decode_pte(Machine machine, uint64_t page_size, uint64_t pte) {
  if (machine == Machine::aarch64) return decode_aarch64(page_size, pte);
  return decode_x86_64(pte);
}

}  // namespace coroner::arch
