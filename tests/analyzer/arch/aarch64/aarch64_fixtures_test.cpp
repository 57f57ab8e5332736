// The arm64 arch on every real arm64 dump (4K and 16K pages): memory read
// through the kernel's tables matches facts.json (drgn's reading of the
// same dump), the linear map agrees with the walk, and user memory reads
// through a task's own tables (where drgn 0.0.22 failed).
#include "analyzer/arch/aarch64/aarch64_arch.hpp"
#include "tests/analyzer/arch/user_task_fixture.hpp"

#include <catch2/catch.hpp>

#include <array>

using namespace coroner;
using namespace coroner::arch;
using namespace coroner::test;

namespace {

// struct new_utsname: sysname[65], nodename[65], release[65], ...
constexpr uint64_t kUtsnameRelease = 2 * 65;

const Aarch64Arch& a64(const OpenedKernel& o) { return dynamic_cast<const Aarch64Arch&>(*o.arch); }

std::vector<const test::DumpCase*> arm64_dumps() {
  std::vector<const test::DumpCase*> out;
  for (const auto& c : test::all_dumps())
    if (c.arch_dir == "linux-6.1-arm64" || c.arch_dir == "linux-6.1-arm64-16k") out.push_back(&c);
  REQUIRE(out.size() == 6);
  return out;
}

std::string read_hex(const KernelMemory& memory, uint64_t vaddr, size_t size, std::optional<uint64_t> root = {}) {
  std::vector<std::byte> buf(size);
  auto done = memory.read(vaddr, buf, root);
  if (!done) FAIL(fmt::format("{:#x}: {}", vaddr, done.error().message()));
  return test::hex(buf.data(), buf.size());
}

// The walk's last step agrees with the size of the mapping it found.
void check_leaf(const OpenedKernel& o, const Translation& t) {
  REQUIRE(t.paddr);
  const Aarch64Paging& p = a64(o).paging();
  REQUIRE_FALSE(t.steps.empty());
  REQUIRE(t.steps.size() <= p.levels);
  CHECK(t.steps.front().level == "PGD");
  CHECK(t.steps.front().table == o.arch->kernel_root());
  const WalkStep& leaf = t.steps.back();
  CHECK(leaf.level == p.level_name(t.steps.size() - 1));
  CHECK(t.page_size == uint64_t{1} << p.shift(t.steps.size() - 1));
  if (t.steps.size() == p.levels) CHECK_THAT(leaf.flags, Catch::StartsWith("VALID|PAGE|"));
  else CHECK_THAT(leaf.flags, Catch::StartsWith("VALID|BLOCK|"));
  CHECK_THAT(leaf.flags, Catch::Contains("|AF|"));
  for (size_t i = 0; i + 1 < t.steps.size(); ++i) CHECK_THAT(t.steps[i].flags, Catch::StartsWith("VALID|TABLE"));
}

}  // namespace

TEST_CASE("arm64 fixtures: VMCOREINFO gives the layout", "[arch][aarch64][fixtures]") {
  const test::DumpCase* c = GENERATE(from_range(arm64_dumps()));
  INFO(c->id);
  {
    OpenedKernel o = test::open_kernel_memory(*c);
    const auto& facts = c->facts();
    for (const auto& [key, value] : facts["vmcoreinfo"].items()) CHECK(o.info.get(key) == value.get<std::string>());
    CHECK(o.arch->page_size() == std::stoull(facts["vmcoreinfo"]["PAGESIZE"].get<std::string>()));
    bool is_16k = c->arch_dir == "linux-6.1-arm64-16k";
    CHECK(a64(o).paging().levels == (is_16k ? 3 : 4));
    CHECK(a64(o).layout().linear_map_low);
    CHECK(a64(o).layout().va_bits_actual == (is_16k ? 47 : 48));
    // The registers of every CPU decode into the arch's register set.
    auto cpus = o.dump->prstatus();
    REQUIRE(cpus.size() >= 1);
    for (const auto& cpu : cpus) CHECK(cpu.gregs.size() == o.arch->register_names().size());
    if (facts.contains("symbols")) {
      CHECK(a64(o).layout().image_start == hex_value(facts["symbols"]["_text"]));
      // The image is mapped from _stext on (the header before it is not).
      uint64_t stext = hex_value(facts["symbols"]["_stext"]);
      auto walked = o.memory->to_physical(stext);
      if (!walked) FAIL(walked.error().message());
      CHECK(o.arch->direct_to_phys(stext) == *walked);
    }
  }
}

TEST_CASE("arm64 fixtures: kernel memory matches facts.json", "[arch][aarch64][fixtures]") {
  const test::DumpCase* c = GENERATE(from_range(arm64_dumps()));
  INFO(c->id);
  {
    const auto& facts = c->facts();
    OpenedKernel o = test::open_kernel_memory(*c);

    // init_uts_ns from VMCOREINFO: readable in every dump, drgn's or not.
    auto uts = o.info.symbol("init_uts_ns");
    auto name = o.info.offset("uts_namespace.name");
    REQUIRE(uts);
    REQUIRE(name);
    auto sysname = o.memory->read_string(*uts + *name, 65);
    auto release = o.memory->read_string(*uts + *name + kUtsnameRelease, 65);
    REQUIRE(sysname);
    REQUIRE(release);
    CHECK(*sysname == "Linux");
    CHECK(*release == "6.1.192");
    CHECK(*release == o.info.osrelease());

    if (!facts.contains("memory_samples")) return;  // panic-qemu: drgn could not open it
    REQUIRE(facts["memory_samples"].size() == 5);
    for (const auto& sample : facts["memory_samples"]) {
      std::string kind = sample["kind"];
      uint64_t vaddr = hex_value(sample["vaddr"]);
      INFO(kind << " " << sample["vaddr"]);
      std::array<std::byte, 64> buf{};
      REQUIRE(sample["len"] == 64);
      auto done = o.memory->read(vaddr, buf);
      if (!done) FAIL(done.error().message());
      CHECK(test::sha256_hex(buf.data(), buf.size()) == sample["sha256"].get<std::string>());
      CHECK(test::hex(buf.data(), 8) == sample["first8"].get<std::string>());
      Translation t = o.memory->translate(vaddr);
      check_leaf(o, t);
      if (kind == "direct-map") {
        uint64_t paddr = hex_value(sample["paddr"]);
        CHECK(t.paddr == paddr);
        CHECK(o.arch->direct_to_phys(vaddr) == paddr);
      } else if (kind == "module-text") {
        CHECK_FALSE(o.arch->direct_to_phys(vaddr));  // vmalloc: only the walk knows
      } else {
        CHECK(o.arch->direct_to_phys(vaddr) == t.paddr);  // kernel image
      }
    }

    // Values drgn read: fx_magic (module data) and linux_banner (image rodata).
    auto magic = o.memory->read_u64(hex_value(facts["symbols"]["fx_magic"]));
    REQUIRE(magic);
    CHECK(*magic == hex_value(facts["values"]["fx_magic"]));
    auto banner = o.memory->read_string(hex_value(facts["symbols"]["linux_banner"]), 512);
    REQUIRE(banner);
    CHECK(*banner == facts["values"]["linux_banner"].get<std::string>());
    for (const auto& item : facts["values"]["fx_items"]) {
      uint64_t addr = hex_value(item["addr"]);
      CHECK(o.arch->direct_to_phys(addr) == o.memory->to_physical(addr).value_or(0));
    }
  }
}

TEST_CASE("arm64 fixtures: user memory through the task's own tables", "[arch][aarch64][fixtures]") {
  const test::DumpCase* c = GENERATE(from_range(arm64_dumps()));
  INFO(c->id);
  {
    const auto& facts = c->facts();
    if (!facts.contains("user_memory")) return;
    OpenedKernel o = test::open_kernel_memory(*c);

    // The kernel's tables serve only TTBR1 addresses: on 16K/47 their entry
    // 0 maps the linear map's start, which a user address would alias.
    Translation through_kernel = o.memory->translate(kUserElfHeader);
    REQUIRE(through_kernel.error);
    CHECK(through_kernel.error->code() == Errc::not_mapped);
    CHECK_THAT(through_kernel.error->message(), Catch::StartsWith("0x400000: a user (TTBR0) address"));
    CHECK(through_kernel.steps.empty());

    for (const auto& entry : facts["user_memory"]) {
      int pid = entry["pid"];
      INFO("pid " << pid);
      auto [mm, pgd] = user_mm(o, facts, pid);
      // The pgd pointer is a linear-map address: no walk needed (drgn's
      // "recursive address translation" came from walking for it).
      auto root = o.arch->direct_to_phys(pgd);
      REQUIRE(root);
      CHECK(*root == o.memory->to_physical(pgd).value_or(0));
      // Kernel addresses read the same in the task's address space (TTBR1 is swapper_pg_dir).
      CHECK(o.memory->read_value<uint64_t>(mm + kMmStructPgd, *root).value_or(0) == pgd);
      CHECK(o.memory->translate(mm, *root).root == o.arch->kernel_root());
      CHECK(hex_value(entry["vaddr"]) == kUserElfHeader);
      if (c->keeps_user_pages) {
        CHECK(read_hex(*o.memory, kUserElfHeader, 16, *root) == kBusyboxElfHeader);
        Translation t = o.memory->translate(kUserElfHeader, *root);
        REQUIRE(t.paddr);
        CHECK(t.steps.size() == a64(o).paging().levels);
        CHECK_THAT(t.steps.back().flags, Catch::StartsWith("VALID|PAGE|USER|RDONLY|"));
      } else {
        // Filtered dumps dropped user pages: the read fails, it never invents bytes.
        std::array<std::byte, 16> buf{};
        auto done = o.memory->read(kUserElfHeader, buf, *root);
        if (done) CHECK(test::hex(buf.data(), buf.size()) == kBusyboxElfHeader);
        else CHECK((done.error().code() == Errc::excluded_by_filter || done.error().code() == Errc::not_mapped));
      }
    }
  }
}

TEST_CASE("arm64 fixtures: a wrong kimage_voffset gives clear read errors", "[arch][aarch64][fixtures]") {
  for (const auto* c : arm64_dumps()) {
    if (c->variant != "vmcore") continue;
    auto dump = open_dump(c->files());
    if (!dump) FAIL(dump.error().message());
    VmcoreInfo good = VmcoreInfo::parse(*(*dump)->vmcoreinfo_text());
    // Point the kernel's root at a physical address no RAM covers.
    std::string text = *(*dump)->vmcoreinfo_text();
    uint64_t swapper = *good.symbol("swapper_pg_dir");
    auto at = text.find("NUMBER(kimage_voffset)=");
    REQUIRE(at != std::string::npos);
    text.replace(at, text.find('\n', at) - at, fmt::format("NUMBER(kimage_voffset)={:#x}", swapper - 0x7f0000000000));
    auto arch = make_aarch64_arch(VmcoreInfo::parse(text));
    REQUIRE(arch);
    CHECK((*arch)->kernel_root() == 0x7f0000000000);
    KernelMemory memory(**dump, **arch);
    uint64_t uts = *good.symbol("init_uts_ns");
    auto release = memory.read_string(uts + kUtsnameRelease);
    REQUIRE_FALSE(release);
    CHECK(release.error().code() == Errc::not_in_dump);
    CHECK_THAT(release.error().message(), Catch::StartsWith(fmt::format("{:#x}: PGD entry ", uts + kUtsnameRelease)) &&
                                              Catch::Contains("0x7f0000000"));
  }
}
