// kmem on every fixture dump: -i against what the crashed kernel said of
// its memory on the console, -s listing the caches with consistent counts,
// kmem ADDRESS on the fx_items objects (kmalloc'ed by fx_crash.c) and on a
// task's stack and task_struct, the JSON documents, bad arguments.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"
#include "tests/commands/guest_console.hpp"

#include <map>
#include <regex>
#include <set>

namespace coroner::test {

namespace {

// sizeof(struct fx_item) of fx_crash.c on a 64-bit kernel: u32 id, char
// name[16], 4 bytes of padding, u64 value, struct list_head node (16).
constexpr uint64_t kFxItemSize = 48;

// What totalram_pages must be from the crashed kernel's console: at
// mem_init, "Memory: A/BK available (..., RK reserved, CK cma-reserved)"
// says B - R - C KiB are managed (mm_init's mem_init_print_info prints
// physpages, and reserved = physpages - totalram - totalcma; "available"
// is nr_free_pages(), not totalram). Every "Freeing ... memory: NK" line
// after it (initrd, init sections, SMP alternatives) adds N KiB more.
std::optional<uint64_t> console_totalram_kib(const DumpCase& dump) {
  static const std::regex memory(R"(^Memory: \d+K/(\d+)K available \(.*, (\d+)K reserved, (\d+)K cma-reserved\))");
  static const std::regex freeing(R"(^Freeing .*memory: (\d+)K$)");
  std::optional<uint64_t> total;
  for (const auto& [time, text] : console_lines(dump)) {
    std::smatch m;
    if (!total && std::regex_search(text, m, memory)) {
      total = std::stoull(m[1]) - std::stoull(m[2]) - std::stoull(m[3]);
    } else if (total && std::regex_search(text, m, freeing)) {
      *total += std::stoull(m[1]);
    }
  }
  return total;
}

std::map<std::string, nlohmann::json> caches_by_name(const nlohmann::json& doc) {
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& c : doc["caches"]) by_name[c["name"].get<std::string>()] = c;
  return by_name;
}

}  // namespace

TEST_CASE("kmem -i: TOTAL MEM is the console's managed memory plus what was freed after it", "[kmem][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const auto kib = console_totalram_kib(dump);
      REQUIRE(kib);
      const nlohmann::json info = run.json("kmem -i");
      const uint64_t page_kib = info["page_size"].get<uint64_t>() / 1024;
      CHECK(info["total_mem"] == *kib / page_kib);
      CHECK_FALSE(info.contains("errors"));
      const uint64_t total = info["total_mem"], free = info["free"];
      CHECK(free < total);
      CHECK(info["used"] == total - free);
      CHECK(info["shared"].get<uint64_t>() < total);
      // SLAB is the kernel's own slab counters (the pages of vm_node_stat).
      const nlohmann::json stat = run.json("kmem -V");
      CHECK(info["slab"] == stat["VM_NODE_STAT"]["NR_SLAB_RECLAIMABLE_B"].get<int64_t>() +
                                stat["VM_NODE_STAT"]["NR_SLAB_UNRECLAIMABLE_B"].get<int64_t>());
      CHECK(info["free"] == stat["VM_ZONE_STAT"]["NR_FREE_PAGES"]);
      // No swap device, no hugetlbfs in the fixture kernels; the commit
      // limit is vm.overcommit_ratio's default 50% of RAM.
      CHECK(info["total_swap"] == 0);
      CHECK(info["total_huge"] == 0);
      CHECK(info["commit_limit"] == total * 50 / 100);

      const std::string text = run.text("kmem -i");
      CHECK_THAT(text, Catch::StartsWith("                 PAGES        TOTAL      PERCENTAGE\n"));
      CHECK_THAT(text, Catch::Contains(fmt::format("    TOTAL MEM  {:>7}", total)));
      CHECK_THAT(text, Catch::Contains(fmt::format("         FREE  {:>7}", free)));
    }
  }
}

TEST_CASE("kmem -s lists task_struct and the kmalloc caches with consistent counts", "[kmem][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json doc = run.json("kmem -s");
      CHECK_FALSE(doc.contains("errors"));
      const auto by_name = caches_by_name(doc);
      // (arm64 has no kmalloc-64: its smallest kmalloc cache is ARCH_DMA_MINALIGN, 128.)
      for (const char* name : {"task_struct", "kmalloc-128", "kmalloc-1k", "kmem_cache", "dentry"})
        CHECK(by_name.count(name));
      for (const auto& c : doc["caches"]) {
        INFO(c.dump());
        REQUIRE(c["total"].is_number());
        CHECK_FALSE(c.contains("error"));
        CHECK(c["allocated"] <= c["total"]);
        CHECK(c["total"] <= c["slabs"].get<uint64_t>() * c["objects_per_slab"].get<uint64_t>());
        CHECK(c["objsize"] <= c["size"]);
      }
      // Tasks live in task_struct objects: at least as many as the dump has.
      if (dump.facts().contains("tasks")) {
        size_t forked = 0;  // the idle tasks are static or made before the cache
        for (const auto& t : dump.facts()["tasks"]) forked += t["pid"] != 0;
        CHECK(by_name.at("task_struct")["allocated"].get<size_t>() >= forked);
      }
      // One cache by name: the header and its line, as in the full list.
      const std::string one = run.text("kmem -s task_struct");
      const auto lines = lines_of(one);
      REQUIRE(lines.size() == 2);
      CHECK(lines[0] == "CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME");
      CHECK_THAT(run.text("kmem -s"), Catch::Contains(lines[1] + "\n"));
      CHECK_THAT(lines[1], Catch::EndsWith("  task_struct"));
    }
  }
}

TEST_CASE("kmem ADDRESS names the kmalloc cache of each fx_items object, allocated", "[kmem][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    if (!dump.facts().contains("values")) continue;  // arm64 panic-qemu: no drgn facts
    SECTION(dump.id) {
      CommandRunner run(dump);
      for (const auto& item : dump.facts()["values"]["fx_items"]) {
        const std::string addr = item["addr"];
        INFO("fx_item " << addr);
        const nlohmann::json doc = run.json("kmem " + addr);
        REQUIRE(doc.contains("slab"));
        const nlohmann::json& slab = doc["slab"];
        const std::string cache = slab["cache"]["name"];
        CHECK_THAT(cache, Catch::StartsWith("kmalloc-"));
        CHECK(slab["cache"]["objsize"].get<uint64_t>() >= kFxItemSize);
        CHECK(slab["object"] == addr);  // kzalloc returns an object's start
        CHECK(slab["object_allocated"] == true);
        CHECK(slab["allocated"].get<uint64_t>() + slab["free"].get<uint64_t>() == slab["total"]);
        REQUIRE(doc.contains("page"));
        CHECK(doc["page"]["flag_names"].dump().find("\"slab\"") != std::string::npos);
        CHECK(hex_value(doc["page"]["mapping"]) == hex_value(slab["cache"]["cache"]));  // slab->slab_cache
        CHECK_FALSE(doc.contains("errors"));

        const std::string text = run.text("kmem " + addr);
        CHECK_THAT(text, Catch::StartsWith("CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME\n"));
        CHECK_THAT(text, Catch::Contains("  " + cache + "\n  SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE\n"));
        CHECK_THAT(text, Catch::Contains("  FREE / [ALLOCATED]\n  [" + addr.substr(2) + "]\n\n"));
        CHECK_THAT(text, Catch::Contains("\n      PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS\n"));
      }
    }
  }
}

TEST_CASE("kmem -S lists each slab's objects consistently with its counts", "[kmem][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    if (!dump.facts().contains("values")) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      const std::string item = dump.facts()["values"]["fx_items"][0]["addr"];
      const std::string cache = run.json("kmem " + item)["slab"]["cache"]["name"];
      const nlohmann::json doc = run.json("kmem -S " + cache);
      REQUIRE(doc["caches"].size() == 1);
      const nlohmann::json& c = doc["caches"][0];
      CHECK(c["name"] == cache);
      CHECK_FALSE(c.contains("slab_errors"));
      size_t slabs_seen = 0;
      auto check_slab = [&](const nlohmann::json& slab) {
        ++slabs_seen;
        CHECK(slab["allocated"].get<uint64_t>() + slab["free"].get<uint64_t>() == slab["total"]);
        if (!slab.contains("objects")) return;
        REQUIRE(slab["objects"].size() == slab["total"]);
        size_t free = 0;
        for (const auto& o : slab["objects"]) free += o["allocated"] == false;
        CHECK(free == slab["free"]);
      };
      for (const auto& cpu : c["cpus"]) {
        if (!cpu["slab"].is_null()) check_slab(cpu["slab"]);
        for (const auto& s : cpu["partial"]) check_slab(s);
      }
      uint64_t node_slabs = 0;
      for (const auto& node : c["nodes"]) {
        node_slabs += node["slabs"].get<uint64_t>();
        CHECK(node["partial"].size() == node["partial_count"]);
        for (const auto& s : node["partial"]) check_slab(s);
      }
      CHECK(node_slabs == c["slabs"]);
      CHECK(slabs_seen <= node_slabs);
    }
  }
}

TEST_CASE("kmem ADDRESS names the task whose stack or task_struct holds it", "[kmem][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    if (!dump.facts().contains("tasks")) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      for (const auto& t : dump.facts()["tasks"]) {
        if (t["comm"] != "fx_sleeper" && t["pid"] != 1) continue;
        const std::string task = t["task"];
        INFO("PID " << t["pid"] << " task " << task);
        const uint64_t stack = hex_value(run.json("px ((struct task_struct *)" + task + ")->stack")["value"]);
        const nlohmann::json on_stack = run.json(fmt::format("kmem {:#x}", stack + 0x100));
        REQUIRE(on_stack.contains("task"));
        CHECK(on_stack["task"]["pid"] == t["pid"]);
        CHECK(on_stack["task"]["task"] == task);
        CHECK(on_stack["task"]["in"] == "stack");
        CHECK_THAT(run.text(fmt::format("kmem {:#x}", stack + 0x100)),
                   Catch::Contains(fmt::format("COMMAND: \"{}\"\n\n", t["comm"].get<std::string>())));
        // The task_struct itself is a task_struct slab object.
        const nlohmann::json in_task = run.json(fmt::format("kmem {:#x}", hex_value(task) + 8));
        REQUIRE(in_task.contains("task"));
        CHECK(in_task["task"]["pid"] == t["pid"]);
        CHECK(in_task["task"]["in"] == "task_struct");
        REQUIRE(in_task.contains("slab"));
        CHECK(in_task["slab"]["cache"]["name"] == "task_struct");
        CHECK(in_task["slab"]["object"] == task);
      }
    }
  }
}

TEST_CASE("kmem ADDRESS on kernel and module symbols, vmalloc areas and unmapped addresses", "[kmem][facts]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  CommandRunner run(dump);
  const auto& symbols = dump.facts()["symbols"];
  const std::string jiffies = symbols["jiffies"];
  CHECK_THAT(run.text("kmem jiffies"), Catch::StartsWith(jiffies.substr(2) + " (D) jiffies\n\n      PAGE  "));
  const nlohmann::json magic = run.json("kmem fx_magic");
  CHECK(magic["symbol"]["name"] == "fx_magic");
  CHECK(magic["symbol"]["module"] == "fx_crash");
  // Module memory is a vmalloc area from the module's base.
  REQUIRE(magic.contains("vmalloc"));
  CHECK(magic["vmalloc"]["start"] == dump.facts()["modules"][0]["base"]);
  const nlohmann::json areas = run.json("kmem -v");
  bool listed = false;
  for (const auto& a : areas["areas"]) listed = listed || a == magic["vmalloc"];
  CHECK(listed);
  CHECK(run.text("kmem 0x10") == "10: kernel virtual address not found in mem map\n");
}

TEST_CASE("kmem -z, -f, -g and -p agree with kmem -i and the slab pages", "[kmem][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    if (!dump.facts().contains("values")) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      int64_t free = 0, present = 0;
      const nlohmann::json zones = run.json("kmem -z");
      for (const auto& zone : zones["zones"]) {
        free += zone["vm_stat"]["NR_FREE_PAGES"].get<int64_t>();
        present += zone["present"].get<int64_t>();
        CHECK(zone["min"] <= zone["low"]);
        CHECK(zone["low"] <= zone["high"]);
      }
      const nlohmann::json info = run.json("kmem -i");
      CHECK(info["free"] == free);
      // The buddy allocator's free lists hold exactly NR_FREE_PAGES (pages
      // on the per-CPU lists count in neither).
      const nlohmann::json lists = run.json("kmem -f");
      CHECK(lists["nr_free_pages"] == free);
      CHECK(lists["found"] == free);
      CHECK_FALSE(lists.contains("errors"));
      CHECK(info["total_mem"] <= present);  // managed pages are the present ones less the reserved
      // PG_slab's bit, named as crash names it; the fx_items' page has it.
      const nlohmann::json slab_flag = run.json("kmem -g 200");
      REQUIRE(slab_flag["flags"].size() == 1);
      CHECK(slab_flag["flags"][0]["flag"] == "PG_slab");
      const std::string item = dump.facts()["values"]["fx_items"][0]["addr"];
      const nlohmann::json page = run.json("kmem -p " + item)["pages"][0];
      CHECK((hex_value(page["flags"]) & 0x200) != 0);
      CHECK(page == run.json("kmem " + item)["page"]);
      CHECK(run.json("kmem -p " + page["page"].get<std::string>())["pages"][0] == page);
    }
  }
}

// The first page of the first non-empty free list of kmem -f, found by
// following the list's next pointer to the struct page's buddy list_head.
TEST_CASE("kmem ADDRESS of a free page names its zone, free list and order, as crash does", "[kmem][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    if (dump.variant != "d31" && dump.variant != "kdump-zlib") continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json lists = run.json("kmem -f");
      const nlohmann::json* found = nullptr;
      for (const auto& zone : lists["zones"]) {
        for (const auto& list : zone["free_lists"])
          if (list["blocks"].get<int64_t>() > 0) {
            found = &list;
            break;
          }
        if (found) break;
      }
      REQUIRE(found);
      auto next = run.program().memory().read_u64(hex_value((*found)["free_list"]));
      auto link = run.program().member_offset("struct page", "lru");
      REQUIRE(next);
      REQUIRE(link);
      const uint64_t page = *next - *link;
      const nlohmann::json by_page = run.json(fmt::format("kmem {:#x}", page));
      INFO(by_page.dump());
      REQUIRE(by_page.contains("free"));
      CHECK(by_page["free"]["free_list"] == (*found)["free_list"]);
      CHECK(by_page["free"]["order"] == (*found)["order"]);
      CHECK(hex_value(by_page["free"]["block"]) == page);
      CHECK(by_page["page"]["count"] == 0);
      // The page's own memory, through the direct map, is the same free page.
      const uint64_t physical = hex_value(by_page["page"]["physical"]);
      const uint64_t virt = hex_value(run.json(fmt::format("ptov {:#x}", physical + 0x10))["virtual"]);
      CHECK(run.json(fmt::format("kmem {:#x}", virt))["free"] == by_page["free"]);
      if (dump.arch_dir.find("x86_64") != std::string::npos && crash_installed())
        check_same_as_crash(run, dump, {fmt::format("kmem {:x}", page), fmt::format("kmem {:x}", virt)});
    }
  }
}

TEST_CASE("kmem rejects bad arguments with one line", "[kmem][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("kmem"), Catch::Contains("missing option or address"));
  CHECK_THAT(run.failure("kmem -x"), Catch::Contains("unknown option -x"));
  CHECK_THAT(run.failure("kmem -i -s"), Catch::Contains("exclude each other"));
  CHECK_THAT(run.failure("kmem -i 1"), Catch::Contains("-i takes no argument"));
  CHECK_THAT(run.failure("kmem -s task_struct dentry"), Catch::Contains("only one kmem_cache reference is allowed"));
  CHECK_THAT(run.failure("kmem -s no_such_cache"), Catch::Contains("no kmem_cache named 'no_such_cache'"));
  CHECK_THAT(run.failure("kmem -S no_such_cache"), Catch::Contains("no kmem_cache named 'no_such_cache'"));
  CHECK_THAT(run.failure("kmem no_such_symbol"), Catch::Contains("no_such_symbol"));
  CHECK_THAT(run.failure("kmem -z 1"), Catch::Contains("-z takes no argument"));
  // The fixture kernels have no hugetlbfs (crash: "hstates[] array does not exist").
  CHECK_THAT(run.failure("kmem -h"), Catch::Contains("hstates[] array does not exist"));
  CHECK_THAT(run.failure("kmem -g 1 2"), Catch::Contains("-g takes one argument"));
  CHECK_THAT(run.failure("kmem -g zz"), Catch::Contains("zz"));
  CHECK_THAT(run.failure("kmem -p 0x10"), Catch::Contains("not a struct page nor mapped to one"));
}

}  // namespace coroner::test
