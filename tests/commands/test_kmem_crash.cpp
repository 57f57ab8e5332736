// kmem next to crash 8.0.2 on the x86_64 fixture dumps, line by line: -s
// (every cache's counts), -S (slabs and objects), -v, -V, -z, -f, -F, -n, -m, -g, -p
// (every page, and one) and kmem ADDRESS on the fx_items objects
// agree; -i agrees but for SLAB, where crash 8.0.2 looks for vm_stat names
// that 5.9 renamed (NR_SLAB_*_B) and falls back to counting PG_slab pages,
// which are the slabs' head pages only (docs/crash-differences.md, "kmem").
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"

namespace coroner::test {

TEST_CASE("kmem -s, -S, -i, -v, -V, -z, -f, -F, -n, -m, -g, -p and kmem ADDRESS match crash 8.0.2 where crash is right", "[kmem][crash]") {
  if (!crash_installed()) return;
  for (const std::string id : {"x86_64/oops-kdump/d31", "x86_64/panic-qemu/kdump-zlib", "x86_64/oops-kdump-la57/d31"}) {
    SECTION(id) {
      const DumpCase& dump = fixture_case(id);
      std::vector<std::string> commands = {"kmem -s",           "kmem -i",           "kmem -v",
                                           "kmem -V",           "kmem -s kmalloc-64", "kmem -S kmalloc-64",
                                           "kmem -S task_struct", "kmem -S kmem_cache_node",
                                           "kmem -z",           "kmem -g",           "kmem -g 1200",
                                           "kmem -p",           "kmem -f",           "kmem -F",
                                           "kmem -n",           "kmem -m flags,mapping,index,lru,_mapcount"};
      for (const auto& item : dump.facts()["values"]["fx_items"])
        for (const char* command : {"kmem ", "kmem -p "}) commands.push_back(command + item["addr"].get<std::string>().substr(2));
      const std::vector<std::string> expected = crash_outputs(dump, commands);
      REQUIRE(expected.size() == commands.size());
      CommandRunner run(dump);
      for (size_t i = 0; i < commands.size(); ++i) {
        INFO(commands[i]);
        const std::string ours = run.text(commands[i]);
        if (commands[i] != "kmem -i") {
          check_same_lines(ours, expected[i]);
          continue;
        }
        const auto mine = lines_of(ours), theirs = lines_of(expected[i]);
        REQUIRE(mine.size() == theirs.size());
        for (size_t l = 0; l < mine.size(); ++l) {
          if (mine[l].starts_with("         SLAB ")) continue;
          CHECK(mine[l] == theirs[l]);
        }
        const nlohmann::json stat = run.json("kmem -V");
        const int64_t slab_pages = stat["VM_NODE_STAT"]["NR_SLAB_RECLAIMABLE_B"].get<int64_t>() +
                                   stat["VM_NODE_STAT"]["NR_SLAB_UNRECLAIMABLE_B"].get<int64_t>();
        CHECK_THAT(ours, Catch::Contains(fmt::format("         SLAB  {:>7}", slab_pages)));
      }
    }
  }
}

}  // namespace coroner::test
