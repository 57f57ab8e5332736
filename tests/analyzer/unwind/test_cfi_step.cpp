#include "analyzer/unwind/cfi_step.hpp"
#include "analyzer/arch/aarch64/aarch64_arch.hpp"
#include "tests/analyzer/os/linux/fake_kernel.hpp"

#include <catch2/catch.hpp>

using namespace coroner;
using namespace coroner::unwind;
using symbols::CfiRow;
using symbols::CfiRule;

namespace {

// arm64's register set (x0..x30, sp, pc, pstate) and DWARF numbering,
// taken from the real Aarch64Arch, on identity-mapped fake memory (the fake
// stack is not a kernel address arm64's tables would map).
class FakeAarch64 : public test::FakeArch {
 public:
  const std::vector<std::string_view>& register_names() const override { return arm64_.register_names(); }
  size_t pc_register() const override { return arm64_.pc_register(); }
  size_t sp_register() const override { return arm64_.sp_register(); }
  size_t fp_register() const override { return arm64_.fp_register(); }
  std::optional<size_t> lr_register() const override { return arm64_.lr_register(); }
  std::optional<size_t> dwarf_register(unsigned number) const override { return arm64_.dwarf_register(number); }

 private:
  arch::Aarch64Arch arm64_{arch::Aarch64Paging{}, arch::Aarch64Layout{}};
};

// Three registers whose DWARF numbers are not their indexes (x86_64's rbp,
// rsp and the return address column 16 for rip).
class FakeX86 : public test::FakeArch {
 public:
  const std::vector<std::string_view>& register_names() const override { return names_; }
  size_t pc_register() const override { return 2; }
  size_t sp_register() const override { return 1; }
  size_t fp_register() const override { return 0; }
  std::optional<size_t> lr_register() const override { return std::nullopt; }
  std::optional<size_t> dwarf_register(unsigned number) const override {
    if (number == 6) return 0;
    if (number == 7) return 1;
    if (number == 16) return 2;
    return std::nullopt;
  }

 private:
  std::vector<std::string_view> names_{"rbp", "rsp", "rip"};
};

constexpr uint64_t kStack = 0x10000;  // the fake stack's sp
constexpr uint64_t kPc = 0xffff800008100040;

PhysicalFrame arm64_frame(const arch::Arch& arch) {
  PhysicalFrame frame;
  frame.registers = RegisterSet(arch.register_names().size());
  for (size_t i = 0; i <= 30; ++i) frame.registers.set(i, 0x1000 + i);
  frame.registers.set(31, kStack);
  frame.registers.set(32, kPc);
  frame.pc = kPc;
  frame.sp = kStack;
  return frame;
}

CfiRow arm64_row() {
  CfiRow row;
  row.cfa_register = 31;
  row.cfa_offset = 48;
  row.return_address_register = 30;
  row.rules = {
      {29, {CfiRule::Kind::at_cfa_offset, -48, 0}}, {30, {CfiRule::Kind::at_cfa_offset, -40, 0}},
      {19, {CfiRule::Kind::same_value, 0, 0}},      {20, {CfiRule::Kind::undefined, 0, 0}},
      {21, {CfiRule::Kind::in_register, 0, 0}},     {22, {CfiRule::Kind::is_cfa_offset, -8, 0}},
      {23, {CfiRule::Kind::unsupported, 0, 0}},     {70, {CfiRule::Kind::at_cfa_offset, -1000, 0}},
  };
  return row;
}

}  // namespace

TEST_CASE("apply_cfi: each rule kind gives the caller's registers", "[unwind][cfi]") {
  FakeAarch64 arch;
  test::FakePhysicalMemory phys;
  phys.map(kStack, 0x100);
  const uint64_t signed_return = 0x007f800008200124;  // a PAC in the top bits
  phys.put<uint64_t>(kStack, 0xfeed0000);             // saved x29 at CFA - 48
  phys.put<uint64_t>(kStack + 8, signed_return);      // saved x30 at CFA - 40
  KernelMemory memory(phys, arch);

  const PhysicalFrame frame = arm64_frame(arch);
  auto strip = [](uint64_t address) { return address | 0xffff000000000000; };
  auto caller = apply_cfi(arm64_row(), frame, arch, memory, strip);
  REQUIRE(caller.has_value());
  const uint64_t cfa = kStack + 48;
  CHECK(caller->sp == cfa);
  CHECK(caller->registers.get(31) == cfa);
  CHECK(caller->pc == 0xffff800008200124);  // the return address, stripped
  CHECK(caller->registers.get(32) == caller->pc);
  CHECK_FALSE(caller->exact_pc);
  CHECK(caller->lookup_pc() == caller->pc - 1);
  CHECK(caller->registers.get(29) == 0xfeed0000);
  CHECK(caller->registers.get(30) == signed_return);  // the register keeps what was saved
  CHECK(caller->registers.get(19) == 0x1000 + 19);    // same value
  CHECK_FALSE(caller->registers.get(20).has_value());  // undefined
  CHECK(caller->registers.get(21) == 0x1000 + 0);     // in x0
  CHECK(caller->registers.get(22) == cfa - 8);        // the value is CFA - 8
  CHECK_FALSE(caller->registers.get(23).has_value());  // a rule we cannot evaluate: unknown
  CHECK(caller->registers.get(24) == 0x1000 + 24);    // no rule: callee-saved, kept
  CHECK_FALSE(caller->pt_regs.has_value());
  CHECK_FALSE(caller->user_mode);

  // Without a filter the return address is used as read.
  auto unfiltered = apply_cfi(arm64_row(), frame, arch, memory);
  REQUIRE(unfiltered.has_value());
  CHECK(unfiltered->pc == signed_return);
}

TEST_CASE("apply_cfi maps DWARF numbers through the architecture", "[unwind][cfi]") {
  FakeX86 arch;
  test::FakePhysicalMemory phys;
  phys.map(kStack, 0x100);
  phys.put<uint64_t>(kStack + 8, 0x5555);                 // saved rbp at CFA - 16
  phys.put<uint64_t>(kStack + 16, 0xffffffff81000123);    // return address at CFA - 8
  KernelMemory memory(phys, arch);

  PhysicalFrame frame;
  frame.registers = RegisterSet::from_values(std::vector<uint64_t>{0x7777, kStack + 8, 0xffffffff81000500});
  frame.pc = 0xffffffff81000500;
  frame.sp = kStack + 8;
  CfiRow row;
  row.cfa_register = 7;  // rsp
  row.cfa_offset = 16;
  row.return_address_register = 16;
  row.rules = {{6, {CfiRule::Kind::at_cfa_offset, -16, 0}}, {16, {CfiRule::Kind::at_cfa_offset, -8, 0}}};
  auto caller = apply_cfi(row, frame, arch, memory);
  REQUIRE(caller.has_value());
  CHECK(caller->sp == kStack + 24);
  CHECK(caller->pc == 0xffffffff81000123);
  CHECK(caller->registers.get(0) == 0x5555);
}

TEST_CASE("apply_cfi errors name the pc and what is missing", "[unwind][cfi][corrupt]") {
  FakeAarch64 arch;
  test::FakePhysicalMemory phys;
  phys.map(kStack, 0x100);
  KernelMemory memory(phys, arch);
  const PhysicalFrame frame = arm64_frame(arch);
  auto failure = [&](const CfiRow& row, const PhysicalFrame& from) {
    auto caller = apply_cfi(row, from, arch, memory);
    REQUIRE_FALSE(caller.has_value());
    CHECK(caller.error().message().find("0xffff800008100040") != std::string::npos);
    return caller.error();
  };

  SECTION("the return address is undefined") {
    CfiRow row = arm64_row();
    row.rules = {{30, {CfiRule::Kind::undefined, 0, 0}}};
    Error error = failure(row, frame);
    CHECK(error.message().find("return address (x30)") != std::string::npos);
  }
  SECTION("the return address has a rule this reader cannot evaluate") {
    CfiRow row = arm64_row();
    row.rules = {{30, {CfiRule::Kind::unsupported, 0, 0}}};
    failure(row, frame);
  }
  SECTION("the CFA register's value is unknown") {
    PhysicalFrame unknown_sp = frame;
    unknown_sp.registers.clear(31);
    CHECK(failure(arm64_row(), unknown_sp).message().find("sp") != std::string::npos);
  }
  SECTION("the CFA is a DWARF expression") {
    CfiRow row = arm64_row();
    row.cfa_supported = false;
    CHECK(failure(row, frame).code() == Errc::unsupported);
  }
  SECTION("the CFA register is not in the register set") {
    CfiRow row = arm64_row();
    row.cfa_register = 64;
    CHECK(failure(row, frame).message().find("DWARF register 64") != std::string::npos);
  }
  SECTION("a saved register lies in memory the dump does not hold") {
    CfiRow row = arm64_row();
    row.cfa_offset = 0x4000;  // CFA beyond the mapped stack
    Error error = failure(row, frame);
    CHECK(error.message().find(fmt::format("{:#x}", kStack + 0x4000 - 0x30)) != std::string::npos);
    CHECK(error.message().find("x29") != std::string::npos);
  }
}
