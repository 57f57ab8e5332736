// make_x86_64_arch from VMCOREINFO text: the kernel root, the kernel-image
// mapping, user-space limits, registers, and the errors for missing or
// inconsistent keys.
#include "analyzer/arch/x86_64/x86_64_arch.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace coroner;
using namespace coroner::arch;

namespace {

using Keys = std::map<std::string, std::string>;

// The keys of linux-6.1-x86_64/oops-kdump's VMCOREINFO that matter here.
const Keys kOopsKdump{{"OSRELEASE", "6.1.192"},
                      {"PAGESIZE", "4096"},
                      {"SYMBOL(swapper_pg_dir)", "ffffffff85a0a000"},
                      {"NUMBER(phys_base)", "16777216"},
                      {"SYMBOL(init_top_pgt)", "ffffffff85a0a000"},
                      {"NUMBER(pgtable_l5_enabled)", "0"},
                      {"KERNELOFFSET", "3e00000"},
                      {"NUMBER(KERNEL_IMAGE_SIZE)", "1073741824"},
                      {"NUMBER(sme_mask)", "0"}};

Keys without(Keys keys, const std::string& key) {
  keys.erase(key);
  return keys;
}

Keys with(Keys keys, const std::string& key, const std::string& value) {
  keys[key] = value;
  return keys;
}

Expected<std::unique_ptr<Arch>> build(const Keys& keys) {
  std::string text;
  for (const auto& [key, value] : keys) text += key + "=" + value + "\n";
  return make_x86_64_arch(VmcoreInfo::parse(text));
}

std::unique_ptr<Arch> make(const Keys& keys) {
  auto arch = build(keys);
  if (!arch) FAIL(arch.error().message());
  return std::move(*arch);
}

std::string error_of(const Keys& keys) {
  auto arch = build(keys);
  REQUIRE_FALSE(arch);
  return arch.error().message();
}

}  // namespace

TEST_CASE("x86_64 arch: identity and registers", "[x86_64][arch]") {
  auto arch = make(kOopsKdump);
  CHECK(arch->machine() == Machine::x86_64);
  CHECK(arch->name() == "x86_64");
  CHECK(arch->page_size() == 4096);
  const auto& regs = arch->register_names();
  REQUIRE(regs.size() == 27);
  CHECK(regs.front() == "r15");
  CHECK(regs[10] == "rax");
  CHECK(regs[15] == "orig_rax");
  CHECK(regs.back() == "gs");
  CHECK(regs[arch->pc_register()] == "rip");
  CHECK(regs[arch->sp_register()] == "rsp");
}

TEST_CASE("x86_64 arch: kernel root and kernel-image addresses", "[x86_64][arch]") {
  SECTION("positive phys_base") {
    auto arch = make(kOopsKdump);
    CHECK(arch->kernel_root() == 0xffffffff85a0a000ULL - 0xffffffff80000000ULL + 16777216);
    CHECK(arch->direct_to_phys(0xffffffff852081cbULL) == 0x52081cbULL + 0x1000000);
    CHECK(arch->direct_to_phys(0xffffffffbfffffffULL) == 0x3fffffffULL + 0x1000000);
    // Module space starts right above the 1 GiB image: vmalloc'd, no shortcut.
    CHECK_FALSE(arch->direct_to_phys(0xffffffffc01bd000ULL));
    // The direct map's base is not in VMCOREINFO.
    CHECK_FALSE(arch->direct_to_phys(0xffffa43d00257400ULL));
    CHECK_FALSE(arch->direct_to_phys(0x400000));
  }
  SECTION("negative phys_base (kernel loaded below its link address), 5-level") {
    auto arch = make(with(with(with(kOopsKdump, "NUMBER(phys_base)", "-467664896"), "SYMBOL(swapper_pg_dir)", "ffffffffb600a000"),
                          "NUMBER(pgtable_l5_enabled)", "1"));
    CHECK(arch->kernel_root() == 0x3600a000ULL - 467664896ULL);
    CHECK(arch->direct_to_phys(0xffffffffb58081cbULL) == 0x358081cbULL - 467664896ULL);
  }
  SECTION("older kernels name the root init_top_pgt or init_level4_pgt") {
    Keys base = without(without(kOopsKdump, "SYMBOL(swapper_pg_dir)"), "SYMBOL(init_top_pgt)");
    CHECK(make(with(base, "SYMBOL(init_top_pgt)", "ffffffff81e0a000"))->kernel_root() == 0x1e0a000 + 0x1000000);
    CHECK(make(with(base, "SYMBOL(init_level4_pgt)", "ffffffff81e0a000"))->kernel_root() == 0x1e0a000 + 0x1000000);
  }
  SECTION("without KERNEL_IMAGE_SIZE the image is taken as 512 MiB") {
    auto arch = make(without(kOopsKdump, "NUMBER(KERNEL_IMAGE_SIZE)"));
    CHECK(arch->direct_to_phys(0xffffffff9fffffffULL));
    CHECK_FALSE(arch->direct_to_phys(0xffffffffa0000000ULL));
  }
}

TEST_CASE("x86_64 arch: user addresses follow the paging depth", "[x86_64][arch]") {
  auto four = make(kOopsKdump);
  CHECK(four->is_user_address(0x400000));
  CHECK(four->is_user_address(0x00007ffffffff000ULL));
  CHECK_FALSE(four->is_user_address(0x0000800000000000ULL));
  CHECK_FALSE(four->is_user_address(0xffff888000000000ULL));
  auto five = make(with(kOopsKdump, "NUMBER(pgtable_l5_enabled)", "1"));
  CHECK(five->is_user_address(0x0000800000000000ULL));
  CHECK(five->is_user_address(0x00fffffffffff000ULL));
  CHECK_FALSE(five->is_user_address(0xff45750700000000ULL));
  // No pgtable_l5_enabled (kernels before 4.17): 4-level.
  CHECK_FALSE(make(without(kOopsKdump, "NUMBER(pgtable_l5_enabled)"))->is_user_address(0x0000800000000000ULL));
}

TEST_CASE("x86_64 arch: errors name the VMCOREINFO key", "[x86_64][arch]") {
  CHECK_THAT(error_of(without(kOopsKdump, "NUMBER(phys_base)")), Catch::Contains("NUMBER(phys_base)"));
  CHECK_THAT(error_of(without(without(kOopsKdump, "SYMBOL(swapper_pg_dir)"), "SYMBOL(init_top_pgt)")),
             Catch::Contains("SYMBOL(swapper_pg_dir)"));
  CHECK_THAT(error_of(with(kOopsKdump, "NUMBER(pgtable_l5_enabled)", "2")), Catch::Contains("NUMBER(pgtable_l5_enabled)=2"));
  CHECK_THAT(error_of(with(kOopsKdump, "NUMBER(pgtable_l5_enabled)", "yes")), Catch::Contains("NUMBER(pgtable_l5_enabled)=yes"));
  CHECK_THAT(error_of(with(kOopsKdump, "PAGESIZE", "16384")), Catch::Contains("PAGESIZE=16384"));
  CHECK_THAT(error_of(with(kOopsKdump, "NUMBER(KERNEL_IMAGE_SIZE)", "0")), Catch::Contains("NUMBER(KERNEL_IMAGE_SIZE)"));
  CHECK_THAT(error_of(with(kOopsKdump, "NUMBER(KERNEL_IMAGE_SIZE)", "4294967296")), Catch::Contains("NUMBER(KERNEL_IMAGE_SIZE)"));
  CHECK_THAT(error_of(with(kOopsKdump, "NUMBER(sme_mask)", "0x4000000000000000")), Catch::Contains("NUMBER(sme_mask)"));
  // A root outside the kernel image, or not page-aligned.
  CHECK_THAT(error_of(with(kOopsKdump, "SYMBOL(swapper_pg_dir)", "ffff888001000000")), Catch::Contains("SYMBOL(swapper_pg_dir)"));
  CHECK_THAT(error_of(with(kOopsKdump, "SYMBOL(swapper_pg_dir)", "ffffffff85a0a008")), Catch::Contains("SYMBOL(swapper_pg_dir)"));
  // A phys_base that would put the root beyond 52 physical bits.
  CHECK_THAT(error_of(with(kOopsKdump, "NUMBER(phys_base)", "0x7000000000000000")), Catch::Contains("beyond 52 bits"));
  CHECK_THAT(error_of({}), Catch::Contains("VMCOREINFO has no"));
}
