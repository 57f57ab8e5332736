// The memory model under kmem on the fixture kernels (x86_64 4- and 5-level,
// arm64 4K and 16K pages): struct pages of page frames and back, the direct
// map, page flag names, the SLUB object of each fx_items entry, the task
// stack size, and the module's vmalloc area. kmem's output is checked
// against facts.json and crash in tests/commands/test_kmem*.cpp.
#include "analyzer/os/linux/page_map.hpp"
#include "analyzer/os/linux/slab_caches.hpp"
#include "analyzer/os/linux/task_stack.hpp"
#include "analyzer/os/linux/vmalloc_areas.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>

namespace coroner::test {

using namespace linux_kernel;

TEST_CASE("struct pages, slab objects, stacks and vmalloc areas of the fixture kernels", "[kmem][slab][facts]") {
  for (const std::string id : {"x86_64/oops-kdump/d31", "x86_64/oops-kdump-la57/d31", "arm64/oops-kdump/d31",
                               "arm64-16k/oops-kdump/d31"}) {
    SECTION(id) {
      const DumpCase& dump = fixture_case(id);
      auto program = open_program(dump);
      const KernelMemory& memory = program->memory();
      auto pages = PageMap::of(*program);
      REQUIRE(pages);
      const PageMap& map = **pages;
      CHECK(map.page_size() == program->arch().page_size());
      REQUIRE_FALSE(map.spans().empty());
      for (size_t i = 1; i < map.spans().size(); ++i) CHECK(map.spans()[i - 1].pfn_end <= map.spans()[i].pfn_start);
      // PG_slab's name is the kernel's own ("slab"), as crash prints it.
      auto slab_bit = map.flag_bit("slab");
      REQUIRE(slab_bit);
      CHECK(map.describe_flags(uint64_t{1} << *slab_bit) == fmt::format("{:x} slab", uint64_t{1} << *slab_bit));
      CHECK(map.describe_flags(0) == "0");

      for (const auto& item : dump.facts()["values"]["fx_items"]) {
        const uint64_t address = hex_value(item["addr"]);
        INFO("fx_item " << item["addr"]);
        // kzalloc'ed: in the direct map, one struct page per frame.
        auto phys = memory.to_physical(address);
        REQUIRE(phys);
        CHECK(map.direct_map_base() + *phys == address);
        const uint64_t pfn = *phys / map.page_size();
        auto page = map.page_of_pfn(pfn);
        REQUIRE(page);
        CHECK(map.pfn_of_page(*page) == pfn);
        CHECK_FALSE(map.pfn_of_page(*page + 1));

        auto found = find_slab_address(*program, address);
        REQUIRE(found);
        REQUIRE(found->has_value());
        const SlabAddress& s = **found;
        CHECK(s.object.address == address);
        CHECK_FALSE(s.object.free);
        CHECK_THAT(s.cache.name, Catch::StartsWith("kmalloc-"));
        CHECK(s.slab.object_list.size() == s.slab.objects);
        CHECK(s.slab.allocated + s.slab.free == s.slab.objects);
        CHECK(s.slab.memory <= address);
        CHECK(address < s.slab.memory + s.cache.slab_bytes);
        auto head = map.head_of(memory, *page);
        REQUIRE(head);
        CHECK(*head == s.slab.slab);
        auto cache = read_slab_cache(*program, s.cache.address);
        REQUIRE(cache);
        CHECK(cache->name == s.cache.name);
        CHECK(cache->total == s.cache.total);
      }

      // The sleeper's stack: THREAD_SIZE is 16 KiB on both architectures
      // (no KASAN), and an address on it names the task.
      CHECK(kernel_stack_size(*program) == 16384);
      for (const auto& t : dump.facts()["tasks"]) {
        if (t["comm"] != "fx_sleeper") continue;
        auto stack_offset = program->member_offset("struct task_struct", "stack");
        REQUIRE(stack_offset);
        auto stack = memory.read_u64(hex_value(t["task"]) + *stack_offset);
        REQUIRE(stack);
        auto owner = task_holding(*program, *stack + 16384 - 8);
        REQUIRE(owner);
        REQUIRE(owner->has_value());
        CHECK((*owner)->task.pid == t["pid"]);
        CHECK((*owner)->in_stack);
      }

      // The module's memory is a vmalloc area from its base.
      const uint64_t base = hex_value(dump.facts()["modules"][0]["base"]);
      auto area = vmalloc_area_of(*program, base);
      REQUIRE(area);
      REQUIRE(area->has_value());
      CHECK((*area)->start == base);
    }
  }
}

}  // namespace coroner::test
