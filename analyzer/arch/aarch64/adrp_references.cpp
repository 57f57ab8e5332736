#include "analyzer/arch/aarch64/adrp_references.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

namespace coroner::arch {

namespace {

uint32_t bits(uint32_t word, int low, int count) { return (word >> low) & ((1u << count) - 1); }

int64_t sign_extend(uint64_t value, int width) {
  const uint64_t sign = uint64_t{1} << (width - 1);
  return static_cast<int64_t>((value ^ sign) - sign);
}

}  // namespace

std::vector<uint64_t> adrp_references(std::span<const std::byte> code, uint64_t pc) {
  std::array<std::optional<uint64_t>, 32> known{};  // register -> address it holds
  std::vector<uint64_t> found;
  auto add = [&](uint64_t address) {
    if (std::find(found.begin(), found.end(), address) == found.end()) found.push_back(address);
  };
  for (size_t at = 0; at + 4 <= code.size(); at += 4, pc += 4) {
    uint32_t word;
    std::memcpy(&word, code.data() + at, 4);
    const uint32_t rd = bits(word, 0, 5), rn = bits(word, 5, 5);
    if ((word & 0x9f000000) == 0x90000000) {  // ADRP Xd, page
      const uint64_t imm = (bits(word, 5, 19) << 2) | bits(word, 29, 2);
      known[rd] = (pc & ~uint64_t{0xfff}) + static_cast<uint64_t>(sign_extend(imm, 21) << 12);
      continue;
    }
    if ((word & 0xff800000) == 0x91000000 && known[rn]) {  // ADD Xd, Xn, #imm{, lsl 12}
      const uint64_t value = *known[rn] + (uint64_t{bits(word, 10, 12)} << (bits(word, 22, 1) ? 12 : 0));
      add(value);
      known[rd] = value;
      continue;
    }
    // LDR/STR (unsigned offset) of 32 and 64 bits: size in bits 31:30.
    if ((word & 0x3fc00000) == 0x39400000 || (word & 0x3fc00000) == 0x39000000) {
      const uint32_t size = bits(word, 30, 2);
      if (known[rn]) add(*known[rn] + (uint64_t{bits(word, 10, 12)} << size));
      if ((word & 0x00400000) && rd != rn) known[rd].reset();  // a load overwrites Xt
      continue;
    }
    // LDP/STP of 64-bit pairs (signed offset): both words' addresses.
    if ((word & 0xffc00000) == 0xa9000000 || (word & 0xffc00000) == 0xa9400000) {
      if (known[rn]) {
        const uint64_t first = *known[rn] + static_cast<uint64_t>(sign_extend(bits(word, 15, 7), 7) * 8);
        add(first);
        add(first + 8);
      }
      if (word & 0x00400000) known[rd].reset(), known[bits(word, 10, 5)].reset();
      continue;
    }
    // LDR/STR (pre-index) "[Xn, #imm]!": the register moves to the address.
    if ((word & 0x3fa00c00) == 0x38000c00 && bits(word, 30, 2) >= 2) {
      if (known[rn]) {
        *known[rn] += static_cast<uint64_t>(sign_extend(bits(word, 12, 9), 9));
        add(*known[rn]);
      }
      if (word & 0x00400000) known[rd].reset();
      continue;
    }
    // A call keeps only the callee-saved X19-X29; a branch keeps all (the
    // scan is linear: a wrong guess is caught by whoever checks the address).
    if ((word & 0xfc000000) == 0x94000000 || (word & 0xfffffc1f) == 0xd63f0000)
      std::fill(known.begin(), known.begin() + 19, std::nullopt), known[30].reset();
    else if (rd != 31 && (word & 0x1c000000) != 0x14000000)
      known[rd].reset();  // most other instructions write Xd
  }
  return found;
}

}  // namespace coroner::arch
