// The arm64 architecture built from VMCOREINFO text: required keys, the
// kernel's address layout before and after Linux 5.4, 52-bit kernels,
// pointer authentication.
#include "analyzer/arch/aarch64/aarch64_arch.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace coroner;
using namespace coroner::arch;

namespace {

// The VMCOREINFO of linux-6.1-arm64/oops-kdump (4K pages, 48-bit VA,
// randomized linear map), abridged.
const std::string kArm64_61 =
    "OSRELEASE=6.1.192\n"
    "PAGESIZE=4096\n"
    "SYMBOL(init_uts_ns)=ffffdb15eeaf1af0\n"
    "SYMBOL(swapper_pg_dir)=ffffdb15ee97f000\n"
    "SYMBOL(_stext)=ffffdb15ee410000\n"
    "SYMBOL(mem_map)=ffffdb15eeb2a810\n"
    "SYMBOL(mem_section)=ffff477459fa9d80\n"
    "NUMBER(VA_BITS)=48\n"
    "NUMBER(MODULES_VADDR)=0xffff800000000000\n"
    "NUMBER(MODULES_END)=0xffff800008000000\n"
    "NUMBER(kimage_voffset)=0xffffdb15ae200000\n"
    "NUMBER(PHYS_OFFSET)=0xffffb88c00000000\n"
    "NUMBER(TCR_EL1_T1SZ)=0x10\n"
    "KERNELOFFSET=5b15e6400000\n"
    "NUMBER(KERNELPACMASK)=0xffff000000000000\n";

std::unique_ptr<Arch> make(const std::string& text) {
  auto arch = make_aarch64_arch(VmcoreInfo::parse(text));
  if (!arch) FAIL(arch.error().message());
  return std::move(*arch);
}

std::string without(std::string text, const std::string& key) {
  auto at = text.find(key + "=");
  REQUIRE(at != std::string::npos);
  text.erase(at, text.find('\n', at) + 1 - at);
  return text;
}

std::string with(std::string text, const std::string& line) { return without(text, line.substr(0, line.find('='))) + line + "\n"; }

}  // namespace

TEST_CASE("arm64 arch from a 6.1 VMCOREINFO", "[arch][aarch64]") {
  auto arch = make(kArm64_61);
  auto& a64 = dynamic_cast<const Aarch64Arch&>(*arch);
  CHECK(arch->name() == "arm64");
  CHECK(arch->machine() == Machine::aarch64);
  CHECK(arch->page_size() == 4096);
  CHECK(a64.paging().levels == 4);
  CHECK(arch->kernel_root() == 0xffffdb15ee97f000 - 0xffffdb15ae200000);
  CHECK(a64.layout().linear_map_low);
  CHECK(a64.layout().image_start == 0xffffdb15ee400000);  // _text = MODULES_END + KERNELOFFSET

  // facts.json's direct-map samples: the linear map wraps PHYS_OFFSET around 2^64.
  CHECK(arch->direct_to_phys(0xffff4774417c7980) == 0x417c7980);
  CHECK(arch->direct_to_phys(0xffff000000000000) == 0xffffb88c00000000);
  CHECK(arch->direct_to_phys(0xf4ff4774417c7980) == 0x417c7980);  // KASAN-style tag in the top byte
  // The image: text and data up to the highest VMCOREINFO symbol's page.
  CHECK(arch->direct_to_phys(0xffffdb15ee81f2a0) == 0xffffdb15ee81f2a0 - 0xffffdb15ae200000);
  CHECK(arch->direct_to_phys(0xffffdb15eeb2afff) == 0xffffdb15eeb2afff - 0xffffdb15ae200000);
  CHECK_FALSE(arch->direct_to_phys(0xffffdb15eeb2b000));
  CHECK_FALSE(arch->direct_to_phys(0xffff800008000000));  // vmalloc/modules: walk only
  CHECK_FALSE(arch->direct_to_phys(0x400000));

  CHECK(arch->is_user_address(0x400000));
  CHECK(arch->is_user_address(0x0000ffffffffffff));
  CHECK_FALSE(arch->is_user_address(0xffff4774417c7980));

  REQUIRE(arch->register_names().size() == 34);
  CHECK(arch->register_names()[0] == "x0");
  CHECK(arch->register_names()[30] == "x30");
  CHECK(arch->register_names()[arch->sp_register()] == "sp");
  CHECK(arch->register_names()[arch->pc_register()] == "pc");
  CHECK(arch->register_names()[33] == "pstate");
}

TEST_CASE("arm64 image end widened by the symbol table", "[arch][aarch64]") {
  auto arch = make(kArm64_61);
  auto& a64 = dynamic_cast<Aarch64Arch&>(*arch);
  a64.set_kernel_image_end(0xffffdb15eeb50000);  // _end
  CHECK(arch->direct_to_phys(0xffffdb15eeb4ffff) == 0xffffdb15eeb4ffff - 0xffffdb15ae200000);
  CHECK_FALSE(arch->direct_to_phys(0xffffdb15eeb50000));
}

TEST_CASE("arm64 layout before Linux 5.4: linear map in the upper half", "[arch][aarch64]") {
  // A 4.18-style layout (RHEL 8): image in the vmalloc area below PAGE_OFFSET,
  // no TCR_EL1_T1SZ, no MODULES_END.
  auto arch = make(
      "OSRELEASE=4.18.0-305.el8.aarch64\nPAGESIZE=65536\nSYMBOL(swapper_pg_dir)=ffff2dc5c5a80000\n"
      "SYMBOL(_stext)=ffff2dc5c4c80000\nNUMBER(VA_BITS)=48\nNUMBER(kimage_voffset)=0xffff2dc585000000\n"
      "NUMBER(PHYS_OFFSET)=0x40000000\nKERNELOFFSET=2dc5bcc00000\n");
  auto& a64 = dynamic_cast<const Aarch64Arch&>(*arch);
  CHECK_FALSE(a64.layout().linear_map_low);
  CHECK(a64.paging().levels == 3);
  CHECK(arch->direct_to_phys(0xffff800000000000) == 0x40000000);
  CHECK(arch->direct_to_phys(0xffff8000deadb000) == 0x40000000ull + 0xdeadb000);
  CHECK(arch->direct_to_phys(0xffff2dc5c4c80000) == 0xffff2dc5c4c80000 - 0xffff2dc585000000);
  CHECK_FALSE(arch->direct_to_phys(0xffff7fffffffffff));
  CHECK(arch->kernel_root() == 0xffff2dc5c5a80000 - 0xffff2dc585000000);
}

TEST_CASE("arm64 52-bit kernels", "[arch][aarch64]") {
  SECTION("64K pages, 52-bit VA on a 48-bit CPU: tables keep 52-bit geometry") {
    // memstart_addr is lowered by _PAGE_OFFSET(48) - _PAGE_OFFSET(52) on such CPUs.
    uint64_t phys_offset = 0x40000000 - (0xffff000000000000 - 0xfff0000000000000);
    auto arch = make(fmt::format(
        "PAGESIZE=65536\nSYMBOL(swapper_pg_dir)=fffffdc5c5a80000\nNUMBER(VA_BITS)=52\n"
        "NUMBER(kimage_voffset)=0xfffffdc585000000\nNUMBER(PHYS_OFFSET)={:#x}\nNUMBER(TCR_EL1_T1SZ)=0x10\n",
        phys_offset));
    auto& a64 = dynamic_cast<const Aarch64Arch&>(*arch);
    CHECK(a64.paging().va_bits == 52);
    CHECK(a64.paging().levels == 3);
    CHECK(a64.paging().lpa);
    CHECK(a64.layout().va_bits_actual == 48);
    CHECK(arch->direct_to_phys(0xffff000000000000) == 0x40000000);
    CHECK_FALSE(arch->direct_to_phys(0xfff8000000000000));  // below the 48-bit linear map
  }
  SECTION("4K pages, 52-bit VA with LPA2 in use") {
    auto arch = make(
        "PAGESIZE=4096\nSYMBOL(swapper_pg_dir)=ffff80008257f000\nNUMBER(VA_BITS)=52\n"
        "NUMBER(kimage_voffset)=0xffff800041e00000\nNUMBER(PHYS_OFFSET)=0x40000000\nNUMBER(TCR_EL1_T1SZ)=0xc\n");
    auto& a64 = dynamic_cast<const Aarch64Arch&>(*arch);
    CHECK(a64.paging().levels == 5);
    CHECK(a64.paging().lpa2);
    CHECK(arch->direct_to_phys(0xfff0000000001000) == 0x40001000);
  }
  SECTION("4K pages, 52-bit VA folded to 48 bits on a CPU without LPA2") {
    auto arch = make(
        "PAGESIZE=4096\nSYMBOL(swapper_pg_dir)=ffff80008257f000\nNUMBER(VA_BITS)=52\n"
        "NUMBER(kimage_voffset)=0xffff800041e00000\nNUMBER(PHYS_OFFSET)=0x40000000\nNUMBER(TCR_EL1_T1SZ)=0x10\n");
    auto& a64 = dynamic_cast<const Aarch64Arch&>(*arch);
    CHECK(a64.paging().levels == 4);
    CHECK(a64.paging().va_bits == 48);
    CHECK_FALSE(a64.paging().lpa2);
  }
}

TEST_CASE("arm64 arch errors name the VMCOREINFO key", "[arch][aarch64]") {
  auto error = [](const std::string& text) {
    auto arch = make_aarch64_arch(VmcoreInfo::parse(text));
    REQUIRE_FALSE(arch);
    return arch.error().message();
  };
  CHECK(error(without(kArm64_61, "PAGESIZE")) == "VMCOREINFO has no PAGESIZE");
  CHECK(error(without(kArm64_61, "NUMBER(VA_BITS)")) == "VMCOREINFO has no NUMBER(VA_BITS)");
  CHECK(error(without(kArm64_61, "NUMBER(kimage_voffset)")) == "VMCOREINFO has no NUMBER(kimage_voffset)");
  CHECK(error(without(kArm64_61, "NUMBER(PHYS_OFFSET)")) == "VMCOREINFO has no NUMBER(PHYS_OFFSET)");
  CHECK(error(without(kArm64_61, "SYMBOL(swapper_pg_dir)")) == "VMCOREINFO has no SYMBOL(swapper_pg_dir)");
  CHECK(error(with(kArm64_61, "PAGESIZE=8192")) == "arm64: page size 8192 is not a granule (4K, 16K or 64K)");
  CHECK(error(with(kArm64_61, "NUMBER(VA_BITS)=64")) == "VMCOREINFO NUMBER(VA_BITS)=64 is not an arm64 VA size (36..52)");
  CHECK(error(with(kArm64_61, "NUMBER(TCR_EL1_T1SZ)=0xc")) ==
        "VMCOREINFO NUMBER(TCR_EL1_T1SZ)=0xc does not fit NUMBER(VA_BITS)=48");
  CHECK(error(with(kArm64_61, "SYMBOL(swapper_pg_dir)=15ee97f000")) ==
        "VMCOREINFO SYMBOL(swapper_pg_dir)=0x15ee97f000 is not a kernel address");
  CHECK(error(with(kArm64_61, "NUMBER(MODULES_END)=0xffffa00000000000")) ==
        "VMCOREINFO NUMBER(MODULES_END) + KERNELOFFSET = 0xfffffb15e6400000 lies above SYMBOL(swapper_pg_dir)=0xffffdb15ee97f000");
  // Without the kernel offset or module bounds the image starts at _stext.
  auto arch = make(without(without(kArm64_61, "NUMBER(MODULES_END)"), "KERNELOFFSET"));
  CHECK(dynamic_cast<const Aarch64Arch&>(*arch).layout().image_start == 0xffffdb15ee410000);
}

TEST_CASE("arm64 pointer authentication codes are stripped", "[arch][aarch64]") {
  uint64_t mask = 0xffff000000000000;  // GENMASK(63, 48): KERNELPACMASK with 48-bit VA
  CHECK(strip_pac(0x00a5db15ee81f2a0, mask) == 0xffffdb15ee81f2a0);
  CHECK(strip_pac(0xffffdb15ee81f2a0, mask) == 0xffffdb15ee81f2a0);
  CHECK(strip_pac(0x0025000000400000, mask) == 0x0000000000400000);
  CHECK(strip_pac(0x0025000000400000, 0) == 0x0025000000400000);
  auto arch = make(kArm64_61);
  CHECK(arch->strip_pointer_auth(0x3a80db15ee81f2a0) == 0xffffdb15ee81f2a0);
}

TEST_CASE("arm64 translate picks TTBR1 or TTBR0 by the address", "[arch][aarch64]") {
  auto arch = make(kArm64_61);
  uint64_t kernel_root = arch->kernel_root();
  uint64_t task_root = 0x45000000;
  // Both roots map the same indexes (the kernel address 0xffff000000400000
  // and the user address 0x400000 share them) to different pages, so the
  // result shows which root was walked.
  std::map<uint64_t, uint64_t> entries;
  auto chain = [&](uint64_t root, uint64_t base, uint64_t vaddr, uint64_t frame) {
    uint64_t table = root;
    for (unsigned step = 0; step < 4; ++step) {
      uint64_t slot = table + ((vaddr >> (39 - 9 * step)) & 511) * 8;
      uint64_t next = base + step * 0x1000;
      entries[slot] = step == 3 ? frame | 0x703 : next | 3;
      table = next;
    }
  };
  chain(kernel_root, 0x50000000, 0xffff000000400000, 0x60000000);
  chain(task_root, 0x51000000, 0x0000000000400000, 0x61000000);
  EntryReader read = [&](uint64_t paddr) -> Expected<uint64_t> {
    auto it = entries.find(paddr);
    return it == entries.end() ? Expected<uint64_t>(uint64_t{0}) : Expected<uint64_t>(it->second);
  };
  Translation kernel = arch->translate(task_root, 0xffff000000400123, read);
  CHECK(kernel.root == kernel_root);
  CHECK(kernel.paddr == 0x60000123);
  Translation user = arch->translate(task_root, 0x400123, read);
  CHECK(user.root == task_root);
  CHECK(user.paddr == 0x61000123);
  Translation wrong = arch->translate(kernel_root, 0x400123, read);
  REQUIRE(wrong.error);
  CHECK(wrong.error->message() ==
        "0x400123: a user (TTBR0) address; the kernel's tables map only TTBR1 addresses, read it through a task's tables");
  CHECK_FALSE(wrong.paddr);
}
