// kmem -n, -F and -m on every fixture dump: the node spans the range the
// crashed kernel's console gave it ("Initmem setup node 0 [mem A-B]") and
// holds the RAM its "Memory: X/YK available" line counted, the memory
// sections cover the node and their mem_map is kmem -p's struct page of
// their first frame, -F lists as many blocks as -f counts, -m reads what
// -p reads; the memory blocks of the distro kernel's dump next to crash
// 8.0.2; bad arguments.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"
#include "tests/commands/guest_console.hpp"

namespace coroner::test {

TEST_CASE("kmem -n: the node and its sections are the memory the console reported", "[kmem][facts]") {
  static const std::regex initmem(R"(^Initmem setup node 0 \[mem (0x[0-9a-f]+-0x[0-9a-f]+)\])");
  static const std::regex memory(R"(^Memory: \d+K/(\d+)K available)");
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json doc = run.json("kmem -n");
      const uint64_t page_size = run.program().arch().page_size();
      REQUIRE(doc["nodes"].size() == 1);
      const nlohmann::json& node = doc["nodes"][0];
      const auto range = console_capture(dump, initmem);
      const auto physpages_kib = console_capture(dump, memory);
      REQUIRE(range);
      REQUIRE(physpages_kib);
      const uint64_t start = std::stoull(range->substr(0, range->find('-')), nullptr, 16);
      const uint64_t end = std::stoull(range->substr(range->find('-') + 1), nullptr, 16) + 1;
      CHECK(hex_value(node["start_paddr"]) == start);
      CHECK(node["size"].get<uint64_t>() * page_size == end - start);
      CHECK(node["present"].get<uint64_t>() * page_size / 1024 == std::stoull(*physpages_kib));
      uint64_t zone_pages = 0;
      for (const auto& zone : node["zones"]) zone_pages += zone["size"].get<uint64_t>();
      CHECK(zone_pages == node["size"]);
      // Every frame of the node is in a present section, whose mem_map is kmem -p's page of its first frame.
      CHECK(doc["memory_model"] == "SPARSEMEM_EXTREME");
      REQUIRE_FALSE(doc["sections"].empty());
      const uint64_t section_pages = doc["sections"].size() > 1
                                         ? doc["sections"][1]["pfn"].get<uint64_t>() - doc["sections"][0]["pfn"].get<uint64_t>()
                                         : node["size"].get<uint64_t>();
      for (uint64_t pfn = start / page_size; pfn < end / page_size; pfn += section_pages) {
        bool covered = false;
        for (const auto& s : doc["sections"]) covered |= s["pfn"] <= pfn && pfn - s["pfn"].get<uint64_t>() < section_pages;
        CHECK(covered);
      }
      for (const auto& s : doc["sections"]) {
        CHECK(s["state"].get<std::string>().starts_with("PM"));
        const nlohmann::json page = run.json("kmem -p " + s["mem_map"].get<std::string>());
        REQUIRE(page["pages"].size() == 1);
        CHECK(hex_value(page["pages"][0]["physical"]) == s["pfn"].get<uint64_t>() * page_size);
      }
      CHECK(run.json("kmem -p " + node["mem_map"].get<std::string>())["pages"][0]["physical"] == node["start_paddr"]);
    }
  }
}

TEST_CASE("kmem -F lists the blocks kmem -f counts, -m the members kmem -p reads", "[kmem][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json counted = run.json("kmem -f"), listed = run.json("kmem -F");
      REQUIRE(counted["zones"].size() == listed["zones"].size());
      CHECK(listed["found"] == listed["nr_free_pages"]);
      for (size_t z = 0; z < counted["zones"].size(); ++z) {
        const auto& lists = listed["zones"][z]["free_lists"];
        REQUIRE(lists.size() == counted["zones"][z]["free_lists"].size());
        for (size_t l = 0; l < lists.size(); ++l) {
          CHECK(lists[l]["block_pages"].size() == counted["zones"][z]["free_lists"][l]["blocks"]);
          // A block's first page is free: kmem ADDRESS finds it on this list.
          if (!lists[l]["block_pages"].empty() && l % 3 == 0) {
            const nlohmann::json free = run.json("kmem " + lists[l]["block_pages"][0].get<std::string>())["free"];
            CHECK(free["free_list"] == lists[l]["free_list"]);
            CHECK(free["block"] == lists[l]["block_pages"][0]);
          }
        }
      }
      const nlohmann::json members = run.json("kmem -m flags,_refcount,mapping,index,lru");
      const nlohmann::json pages = run.json("kmem -p");
      REQUIRE(members["pages"].size() == pages["pages"].size());
      for (size_t i = 0; i < pages["pages"].size(); i += 97) {
        const nlohmann::json &shown = members["pages"][i], &page = pages["pages"][i];
        CHECK(shown["page"] == page["page"]);
        CHECK(hex_value(shown["flags"]) == hex_value(page["flags"]));
        CHECK(hex_value(shown["mapping"]) == hex_value(page["mapping"]));
        CHECK(std::stoull(shown["index"].get<std::string>()) == hex_value(page["index"]));  // decimal, as crash
        CHECK(hex_value(shown["_refcount"]) == static_cast<uint32_t>(page["count"].get<int32_t>()));
        CHECK(shown["lru"].get<std::string>().size() == 2 * 16 + 1);  // list_head: next,prev
      }
    }
  }
}

TEST_CASE("kmem -n on the distro kernel's dump: its memory blocks too, as crash 8.0.2 prints them", "[kmem][crash][distro]") {
  const DistroDump distro = distro_dump();
  CommandRunner run(distro.options(), "distro dump");
  const nlohmann::json doc = run.json("kmem -n");
  REQUIRE_FALSE(doc["memory_blocks"].empty());  // Debian's kernel has memory hotplug
  for (const auto& block : doc["memory_blocks"]) {
    CHECK(block["state"] == "ONLINE");
    CHECK(block["name"] == fmt::format("memory{}", block["start_section_no"].get<uint64_t>()));  // 128 MiB blocks of one section
  }
  if (!crash_installed()) return;
  const std::vector<std::string> commands = {"kmem -n", "kmem -m flags,mapping,index"};
  const std::vector<std::string> outputs = crash_outputs(distro.vmlinux, distro.dump, commands);
  REQUIRE(outputs.size() == commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    INFO(commands[i]);
    check_same_lines(run.text(commands[i]), outputs[i]);
  }
}

TEST_CASE("kmem -n, -F and -m: bad arguments", "[kmem]") {
  CommandRunner run(all_dumps().front());
  CHECK_THAT(run.failure("kmem -m"), Catch::Contains("-m takes one"));
  CHECK_THAT(run.failure("kmem -m flags,nosuch"), Catch::Contains("invalid struct page member: nosuch"));
  CHECK_THAT(run.failure("kmem -m flags,,index"), Catch::Contains("empty member name"));
  CHECK_THAT(run.failure("kmem -n 1000"), Catch::Contains("-n takes no argument"));
  CHECK_THAT(run.failure("kmem -F -n"), Catch::Contains("exclude each other"));
}

}  // namespace coroner::test
