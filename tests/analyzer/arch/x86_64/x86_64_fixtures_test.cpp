// The x86_64 arch on every real x86_64 dump: memory read through the
// kernel's page tables matches facts.json (drgn's reading of the same
// dump), and user memory reads through a task's own tables.
#include "tests/analyzer/arch/user_task_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <map>

using namespace coroner;
using namespace coroner::arch;
using namespace coroner::test;

namespace {

std::vector<const test::DumpCase*> x86_64_dumps() {
  std::vector<const test::DumpCase*> out;
  for (const auto& c : test::all_dumps())
    if (c.arch_dir == "linux-6.1-x86_64") out.push_back(&c);
  return out;
}

bool is_five_level(const test::DumpCase& c) { return c.facts()["vmcoreinfo"]["NUMBER(pgtable_l5_enabled)"] == "1"; }

// Levels a walk ends at for a page of this size: 4K at the PTE, 2M one
// level up, 1G two.
size_t expected_steps(const test::DumpCase& c, uint64_t page_size) {
  size_t levels = is_five_level(c) ? 5 : 4;
  return levels - (std::countr_zero(page_size) - 12) / 9;
}

}  // namespace

TEST_CASE("x86_64 fixtures: memory samples read through the kernel page tables", "[x86_64][fixtures]") {
  auto dumps = x86_64_dumps();
  REQUIRE(dumps.size() >= 4);
  REQUIRE(std::any_of(dumps.begin(), dumps.end(), [](const auto* c) { return is_five_level(*c); }));
  for (const auto* c : dumps) DYNAMIC_SECTION(c->id) {
    test::OpenedKernel o = test::open_kernel_memory(*c);
    const auto& facts = c->facts();
    const auto& vmcoreinfo = facts["vmcoreinfo"];
    uint64_t phys_base = static_cast<uint64_t>(std::stoll(vmcoreinfo["NUMBER(phys_base)"].get<std::string>()));
    uint64_t swapper = std::stoull(vmcoreinfo["SYMBOL(swapper_pg_dir)"].get<std::string>(), nullptr, 16);
    CHECK(o.arch->kernel_root() == swapper - 0xffffffff80000000ULL + phys_base);

    for (const auto& sample : facts["memory_samples"]) {
      uint64_t vaddr = hex_value(sample["vaddr"]);
      std::string kind = sample["kind"];
      INFO(kind << " at " << sample["vaddr"].get<std::string>());
      REQUIRE(sample["len"] == 64);
      std::array<std::byte, 64> bytes{};
      auto read = o.memory->read(vaddr, bytes);
      if (!read) FAIL(read.error().message());
      CHECK(test::sha256_hex(bytes.data(), bytes.size()) == sample["sha256"].get<std::string>());
      CHECK(test::hex(bytes.data(), 8) == sample["first8"].get<std::string>());

      Translation walk = o.memory->translate(vaddr);
      REQUIRE(walk.paddr);
      CHECK(walk.steps.size() == expected_steps(*c, walk.page_size));
      CHECK(walk.steps.front().level == "PGD");
      if (is_five_level(*c)) CHECK(walk.steps[1].level == "P4D");
      if (kind == "direct-map") CHECK(*walk.paddr == hex_value(sample["paddr"]));
      if (kind == "module-text") {
        // vmalloc space: 4K pages, the full depth, and no shortcut.
        CHECK(walk.page_size == 4096);
        CHECK(walk.steps.size() == (is_five_level(*c) ? 5u : 4u));
        CHECK(walk.steps.back().level == "PTE");
        CHECK_FALSE(o.arch->direct_to_phys(vaddr));
      }
      if (kind == "kernel-text" || kind == "kernel-data") {
        // The image arithmetic agrees with the page tables.
        CHECK(o.arch->direct_to_phys(vaddr) == walk.paddr);
        CHECK_THAT(walk.steps.back().flags, Catch::Contains("PRESENT"));
      }
    }
  }
}

TEST_CASE("x86_64 fixtures: user pages read through the task's own page tables", "[x86_64][fixtures]") {
  auto dumps = x86_64_dumps();
  REQUIRE(std::any_of(dumps.begin(), dumps.end(), [](const auto* c) { return c->keeps_user_pages; }));
  for (const auto* c : dumps) DYNAMIC_SECTION(c->id) {
    const auto& facts = c->facts();
    REQUIRE(facts.contains("user_memory"));
    test::OpenedKernel o = test::open_kernel_memory(*c);
    for (const auto& user : facts["user_memory"]) {
      int pid = user["pid"];
      INFO("pid " << pid);
      REQUIRE(hex_value(user["vaddr"]) == kUserElfHeader);
      // mm->pgd is a direct-map address: the kernel's tables give its root.
      auto root = o.memory->to_physical(user_mm(o, facts, pid).pgd);
      if (!root) FAIL(root.error().message());
      CHECK(o.arch->is_user_address(kUserElfHeader));

      std::array<std::byte, 16> bytes{};
      auto read = o.memory->read(kUserElfHeader, bytes, *root);
      if (user.contains("fault")) {
        // The shell init forked never touched its ELF header since, and
        // fork copies no PTEs of file mappings: the PTE is empty, as drgn
        // found too. Page tables survive -d 31, so every dump says so.
        REQUIRE_FALSE(read);
        CHECK(read.error().code() == Errc::not_mapped);
        CHECK_THAT(read.error().message(), Catch::Contains("PTE entry 0x0 at physical"));
      }
      if (user.contains("first16")) {
        if (c->keeps_user_pages) {
          if (!read) FAIL(read.error().message());
          CHECK(test::hex(bytes.data(), bytes.size()) == kBusyboxElfHeader);
          CHECK(user["first16"] == kBusyboxElfHeader);
        } else {
          // -d 31 drops user pages but keeps the tables that map them.
          REQUIRE_FALSE(read);
          CHECK(read.error().code() == Errc::excluded_by_filter);
          Translation walk = o.memory->translate(kUserElfHeader, *root);
          CHECK(walk.paddr);
        }
      }
    }
  }
}

namespace {

struct CrashStep {
  const char* level;
  uint64_t entry_addr;  // 0: crash prints no address for the top level
  uint64_t entry;
};
struct CrashVtop {
  uint64_t vaddr;
  std::vector<CrashStep> steps;
  uint64_t paddr;
  uint64_t page_size;
  const char* leaf_flags;
};

// `vtop` of crash 8.0.2 on oops-kdump/d31 and oops-kdump-la57/d31 (every
// oops-kdump variant holds the same memory): module text (4K), slab in the
// direct map (2M) and kernel text (2M).
const std::map<std::string, std::vector<CrashVtop>> kCrashVtop{
    {"oops-kdump",
     {{0xffffffffc01bd000,
       {{"PGD", 0, 0x6a0c067}, {"PUD", 0x6a0cff8, 0x6a0e067}, {"PMD", 0x6a0e000, 0xb9b067}, {"PTE", 0xb9bde8, 0xb97161}},
       0xb97000, 4096, "PRESENT|ACCESSED|DIRTY|GLOBAL"},
      {0xffffa43d00257400,
       {{"PGD", 0, 0x6e00067}, {"PUD", 0x6e007a0, 0x6e01067}, {"PMD", 0x6e01008, 0x80000000002001e3}},
       0x257400, 2 << 20, "PRESENT|RW|ACCESSED|DIRTY|PSE|GLOBAL|NX"},
      {0xffffffff852081cb,
       {{"PGD", 0, 0x6a0c067}, {"PUD", 0x6a0cff0, 0x6a0d063}, {"PMD", 0x6a0d148, 0x62001e1}},
       0x62081cb, 2 << 20, "PRESENT|ACCESSED|DIRTY|PSE|GLOBAL"}}},
    {"oops-kdump-la57",
     {{0xffffffffc0251000,
       {{"PGD", 0, 0x1a20b067},
        {"P4D", 0x1a20bff8, 0x1a20c067},
        {"PUD", 0x1a20cff8, 0x1a20e067},
        {"PMD", 0x1a20e008, 0xb62067},
        {"PTE", 0xb62288, 0xb5e161}},
       0xb5e000, 4096, "PRESENT|ACCESSED|DIRTY|GLOBAL"},
      {0xff457507008ba980,
       {{"PGD", 0, 0x1a600067}, {"P4D", 0x1a600750, 0x1a601067}, {"PUD", 0x1a6010e0, 0x1a602067}, {"PMD", 0x1a602020, 0x80000000008001e3}},
       0x8ba980, 2 << 20, "PRESENT|RW|ACCESSED|DIRTY|PSE|GLOBAL|NX"}}},
};

}  // namespace

TEST_CASE("x86_64 fixtures: walks match crash's vtop", "[x86_64][fixtures]") {
  for (const auto* c : x86_64_dumps()) {
    auto expected = kCrashVtop.find(c->scenario);
    if (expected == kCrashVtop.end()) continue;
    DYNAMIC_SECTION(c->id) {
      test::OpenedKernel o = test::open_kernel_memory(*c);
      for (const CrashVtop& vtop : expected->second) {
        INFO(fmt::format("vtop {:#x}", vtop.vaddr));
        Translation walk = o.memory->translate(vtop.vaddr);
        if (walk.error) FAIL(walk.error->message());
        CHECK(walk.root == o.arch->kernel_root());
        REQUIRE(walk.steps.size() == vtop.steps.size());
        for (size_t i = 0; i < walk.steps.size(); ++i) {
          const WalkStep& step = walk.steps[i];
          CHECK(step.level == vtop.steps[i].level);
          CHECK(step.entry == vtop.steps[i].entry);
          if (i == 0) CHECK(step.entry_addr == walk.root + step.index * 8);
          else CHECK(step.entry_addr == vtop.steps[i].entry_addr);
        }
        CHECK(walk.paddr == vtop.paddr);
        CHECK(walk.page_size == vtop.page_size);
        CHECK(walk.steps.back().flags == vtop.leaf_flags);
      }
    }
  }
}
