// The addresses arm64 code forms from ADRP: Debian 6.1 arm64's
// nr_iowait_cpu() and print_modules(), as its vmlinux disassembles.
#include "analyzer/arch/aarch64/adrp_references.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

using namespace coroner;

namespace {

std::vector<std::byte> code(const std::vector<uint32_t>& words) {
  std::vector<std::byte> bytes(words.size() * 4);
  std::memcpy(bytes.data(), words.data(), bytes.size());
  return bytes;
}

}  // namespace

TEST_CASE("adrp_references: ADRP plus ADD gives __per_cpu_offset and runqueues in nr_iowait_cpu", "[arch][aarch64]") {
  // adrp x2; add x2, x2, #0xf78; adrp x1; add x1, x1, #0xa40; ldr x0, [x2, w0, sxtw #3];
  // add x1, x1, x0 (x1 is no longer an address); ldr w0, [x1, #2536]
  const auto bytes = code({0x9000ba22, 0x913de042, 0xd0009fe1, 0x91290021, 0xf860d840, 0x8b000021, 0xb949e820});
  const auto refs = arch::adrp_references(bytes, 0xffff8000080de168);
  CHECK(refs == std::vector<uint64_t>{0xffff800009822f78, 0xffff8000094dca40});
}

TEST_CASE("adrp_references: a pre-indexed load moves the register to the address (print_modules' modules)",
          "[arch][aarch64]") {
  // adrp x20, 0xffff8000098bc000; add x20, x20, #0x5c0; ldr x19, [x20, #80]!
  const auto bytes = code({0x900068f4, 0x91170294, 0xf8450e93});
  const auto refs = arch::adrp_references(bytes, 0xffff800008ba04c4);
  CHECK(refs == std::vector<uint64_t>{0xffff8000098bc5c0, 0xffff8000098bc610});
}

TEST_CASE("adrp_references: a call forgets the caller-saved registers", "[arch][aarch64]") {
  // adrp x2; bl somewhere; add x2, x2, #0xf78 (x2 is the callee's now)
  const auto bytes = code({0x9000ba22, 0x94000010, 0x913de042});
  CHECK(arch::adrp_references(bytes, 0xffff8000080de168).empty());
}

TEST_CASE("adrp_references: a pair store gives both words (ntp_update_frequency's tick_nsec)", "[arch][aarch64]") {
  // adrp x2, 0xffff800009a41000; add x1, x2, #0xab0; stp x0, x2, [x1, #16]
  const auto bytes = code({0xf000c6e2, 0x912ac041, 0xa9010820});
  const auto refs = arch::adrp_references(bytes, 0xffff800008162dbc);
  CHECK(refs == std::vector<uint64_t>{0xffff800009a41ab0, 0xffff800009a41ac0, 0xffff800009a41ac8});
}
