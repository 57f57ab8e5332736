// `tree` on the fixtures: vmap_area_root (rbtree), init_pid_ns.idr (xarray
// and radix), a process's mm_mt (maple), checked against facts.json and
// the structures' own fields.
#include "analyzer/os/linux/tasks.hpp"
#include "tests/commands/command_runner.hpp"

#include <set>
#include <sstream>

namespace coroner::test {

TEST_CASE("tree -t rbtree: vmap_area_root, top down and in order", "[tree][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("modules")) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      auto linear = run.json("tree -t rbtree -o vmap_area.rb_node -l -s vmap_area.va_start,va_end vmap_area_root");
      const auto& entries = linear["entries"];
      REQUIRE(entries.size() > 10);
      uint64_t previous = 0;
      bool module_found = false;
      const uint64_t base = hex_value(facts["modules"][0]["base"]);
      for (const auto& e : entries) {
        uint64_t start = e["members"]["va_start"], end = e["members"]["va_end"];
        CHECK(start >= previous);
        previous = end;
        module_found |= base >= start && base < end;
      }
      CHECK(module_found);

      // Top down: the same set, the root first, positions as crash's -p.
      std::istringstream text(run.text("tree -t rbtree -o vmap_area.rb_node -p vmap_area_root"));
      std::vector<std::string> lines;
      for (std::string line; std::getline(text, line);) lines.push_back(line);
      REQUIRE(lines.size() == 2 * entries.size());
      CHECK(lines[1] == "  position: root");
      CHECK(lines[3] == "  position: root/l");
      std::set<std::string> top_down, in_order;
      for (size_t i = 0; i < lines.size(); i += 2) top_down.insert("0x" + lines[i]);
      for (const auto& e : entries) in_order.insert(e["address"].get<std::string>());
      CHECK(top_down == in_order);
    }
  }
}

TEST_CASE("tree -t xarray / radix: init_pid_ns.idr holds every PID of facts.json", "[tree][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("tasks")) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      std::set<uint64_t> expected;
      for (const auto& t : facts["tasks"]) expected.insert(t["pid"].get<uint64_t>());
      for (const char* type : {"xarray", "radix"}) {
        INFO(type);
        auto json = run.json(fmt::format("tree -t {} -r pid_namespace.idr.idr_rt -p -s pid.numbers[0].nr init_pid_ns", type));
        std::set<uint64_t> indexes;
        for (const auto& e : json["entries"]) {
          indexes.insert(e["index"].get<uint64_t>());
          CHECK(e["members"]["numbers[0].nr"] == e["index"]);
        }
        CHECK(indexes == expected);
      }
      auto text = run.text("tree -t x -r pid_namespace.idr.idr_rt -p init_pid_ns");
      CHECK_THAT(text, Catch::Contains("  index: 1  position: root/"));
    }
  }
}

TEST_CASE("tree -t maple: a process's VMAs from mm->mm_mt", "[tree][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("tasks")) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      size_t checked = 0;
      // Every user process is busybox: its ELF header at 0x400000.
      for (const auto& t : facts["tasks"]) {
        if (t["pid"] != t["tgid"]) continue;
        auto task = linux_kernel::find_task(run.program(), t["pid"].get<int32_t>());
        REQUIRE(task);
        if (task->mm == 0) continue;
        auto json = run.json(
            fmt::format("tree -t maple -r mm_struct.mm_mt -s vm_area_struct.vm_start,vm_end {:#x}", task->mm));
        bool found = false;
        for (const auto& e : json["entries"]) {
          uint64_t first = hex_value(e["first"]), last = hex_value(e["last"]);
          CHECK(e["members"]["vm_start"].get<uint64_t>() == first);
          CHECK(e["members"]["vm_end"].get<uint64_t>() == last + 1);
          found |= first <= 0x400000 && 0x400000 <= last;
        }
        CHECK(found);
        ++checked;
      }
      CHECK(checked > 0);
    }
  }
}

TEST_CASE("tree rejects what it cannot do", "[tree][facts]") {
  CommandRunner run(all_dumps().front());
  CHECK_THAT(run.failure("tree -t bogus vmap_area_root"), Catch::Contains("bogus"));
  CHECK_THAT(run.failure("tree -t maple -o 8 vmap_area_root"), Catch::Contains("-o"));
  CHECK_THAT(run.failure("tree -t xarray -N vmap_area_root"), Catch::Contains("-N"));
  CHECK_THAT(run.failure("tree -t rbtree 0x10"), Catch::Contains("0x10"));
  CHECK_THAT(run.failure("tree"), Catch::Contains("missing start"));
}

}  // namespace coroner::test
