// p, px, pd on the real dumps: values of facts.json, crash's output forms,
// per-CPU suffixes, casts through task addresses and one-line errors.
#include "tests/analyzer/test_object_dumps.hpp"
#include "tests/commands/command_runner.hpp"

namespace coroner::test {

TEST_CASE("p of globals prints the values of facts.json as crash does", "[print][facts]") {
  for (const DumpCase* dump : object_test_dumps()) {
    SECTION(dump->id) {
      CommandRunner run(*dump);
      const auto& values = dump->facts()["values"];
      const uint64_t jiffies = values["jiffies_64"];
      CHECK(run.text("p jiffies_64") == fmt::format("jiffies_64 = {}\n", jiffies));
      CHECK(run.text("px jiffies_64") == fmt::format("jiffies_64 = {:#x}\n", jiffies));
      CHECK(run.text("pd jiffies_64") == fmt::format("jiffies_64 = {}\n", jiffies));
      CHECK(run.text("p -x jiffies_64") == fmt::format("jiffies_64 = {:#x}\n", jiffies));
      CHECK(run.json("p jiffies_64")["value"] == jiffies);

      // Char arrays show every byte, as crash does; JSON has the C string.
      const size_t release_size = run.json("p sizeof(init_uts_ns.name.release)")["value"];
      const size_t comm_size = run.json("p sizeof(init_task.comm)")["value"];
      CHECK(run.text("p init_uts_ns.name.release") ==
            "init_uts_ns.name.release = " + crash_char_array(dump->facts()["osrelease"], release_size) + "\n");
      CHECK(run.text("px init_uts_ns.name.release") == run.text("p init_uts_ns.name.release"));
      CHECK(run.json("p init_uts_ns.name.release")["value"] == dump->facts()["osrelease"]);
      CHECK(run.json("p init_uts_ns")["value"]["name"]["nodename"] == dump->facts()["nodename"]);
      CHECK(run.json("p linux_banner")["value"] == values["linux_banner"]);
      // `const char linux_banner[]`: the ELF symbol's size is the length,
      // and the array's final NUL is not shown.
      const std::string banner = values["linux_banner"];
      REQUIRE(banner.ends_with("\n"));
      REQUIRE(banner.find_first_of("\"\\") == std::string::npos);
      CHECK(run.text("p linux_banner") ==
            "linux_banner = \"" + banner.substr(0, banner.size() - 1) + "\\n\"\n");
      CHECK(run.text("p init_task.comm") == "init_task.comm = " + crash_char_array("swapper/0", comm_size) + "\n");
      CHECK(run.text("pd init_task.comm") == run.text("p init_task.comm"));
      CHECK(run.json("p init_task.comm")["value"] == "swapper/0");
      CHECK(run.text("p init_task.pid") == "init_task.pid = 0\n");

      const std::string init_task = dump->facts()["symbols"]["init_task"];
      CHECK(run.text("p &init_task") == fmt::format("&init_task = (struct task_struct *) {} <init_task>\n", init_task));
      nlohmann::json address = run.json("p &init_task");
      CHECK(address["value"] == init_task);
      CHECK(address["type"] == "struct task_struct *");
    }
  }
}

TEST_CASE("p prints structs gdb-style and follows pointers, casts and ->", "[print][facts]") {
  for (const DumpCase* dump : object_test_dumps()) {
    if (fact_tasks(*dump).empty()) continue;
    SECTION(dump->id) {
      CommandRunner run(*dump);
      nlohmann::json tasks = run.json("p init_task.tasks");
      const std::string next = tasks["value"]["next"], prev = tasks["value"]["prev"];
      CHECK(run.text("p init_task.tasks") ==
            fmt::format("init_task.tasks = {{\n  next = {},\n  prev = {}\n}}\n", next, prev));
      // The first task on the list is init (pid 1).
      CHECK(run.json("p ((struct task_struct *)(" + next + " - (unsigned long)&((struct task_struct *)0)->tasks))->pid")
                ["value"] == 1);
      for (const auto& task : fact_tasks(*dump)) {
        const std::string address = task["task"];
        INFO(task["comm"] << " at " << address);
        CHECK(run.json("p ((struct task_struct *)" + address + ")->pid")["value"] == task["pid"]);
        CHECK(run.json("p ((struct task_struct *)" + address + ")->comm")["value"] == task["comm"]);
        nlohmann::json whole = run.json("p *(struct task_struct *)" + address);
        CHECK(whole["value"]["tgid"] == task["tgid"]);
        CHECK(whole["address"] == address);
        CHECK(run.text("pd ((struct task_struct *)" + address + ")->pid") ==
              fmt::format("((struct task_struct *){})->pid = {}\n", address, task["pid"].get<int>()));
      }
      // Nested members are indented two spaces per level; px applies to them.
      std::string load = run.text("px init_task.se.load");
      CHECK_THAT(load, Catch::StartsWith("init_task.se.load = {\n  weight = 0x"));
      CHECK_THAT(load, Catch::EndsWith("\n}\n"));
      std::string cpumask = run.text("p init_task.cpus_mask");
      CHECK_THAT(cpumask, Catch::StartsWith("init_task.cpus_mask = {\n  bits = {"));
      CHECK(run.text("p init_task.comm[0]") == "init_task.comm[0] = 115 's'\n");
      CHECK(run.text("px init_task.comm[0]") == "init_task.comm[0] = 0x73\n");
      CHECK(run.text("pd init_task.comm[0]") == "init_task.comm[0] = 115 's'\n");
    }
  }
}

TEST_CASE("p VAR:CPU prints per-CPU instances, a bare per-CPU variable lists their addresses", "[print][percpu]") {
  for (const DumpCase* dump : object_test_dumps()) {
    SECTION(dump->id) {
      CommandRunner run(*dump);
      nlohmann::json one = run.json("p runqueues:1");
      REQUIRE(one["cpus"].size() == 1);
      CHECK(one["cpus"][0]["cpu"] == 1);
      CHECK(one["cpus"][0]["value"]["cpu"] == 1);
      CHECK_THAT(run.text("p runqueues:1"), Catch::StartsWith("per_cpu(runqueues, 1) = {\n  __lock = {"));
      nlohmann::json all = run.json("p runqueues:a");
      REQUIRE(all["cpus"].size() == 2);
      for (int cpu = 0; cpu < 2; ++cpu) CHECK(all["cpus"][cpu]["value"]["cpu"] == cpu);
      CHECK(run.text("p runqueues.cpu:0,1") == "per_cpu(runqueues.cpu, 0) = 0\nper_cpu(runqueues.cpu, 1) = 1\n");
      CHECK(run.text("p per_cpu(runqueues, 1).cpu") == "per_cpu(runqueues, 1).cpu = 1\n");
      std::string listing = run.text("p runqueues");
      CHECK_THAT(listing, Catch::StartsWith("PER-CPU DATA TYPE:\n  struct rq runqueues;\nPER-CPU ADDRESSES:\n  [0]: "));
      nlohmann::json addresses = run.json("p runqueues");
      CHECK(addresses["per_cpu"]["1"] == one["cpus"][0]["address"]);
    }
  }
}

TEST_CASE("p/FMT applies gdb's format letters to fx_magic, structs and arrays", "[print][format][facts]") {
  size_t dumps = 0;
  for (const DumpCase* dump : object_test_dumps()) {
    const auto& values = dump->facts()["values"];
    if (!values.contains("fx_magic")) continue;
    ++dumps;
    SECTION(dump->id) {
      CommandRunner run(*dump);
      const uint64_t magic = hex_value(values["fx_magic"]);
      CHECK(run.text("p/x fx_magic") == "fx_magic = 0xc0ffee11deadbeef\n");
      CHECK(run.text("p /x fx_magic") == "fx_magic = 0xc0ffee11deadbeef\n");
      CHECK(run.text("p/z fx_magic") == "fx_magic = 0xc0ffee11deadbeef\n");
      CHECK(run.text("p/d fx_magic") == fmt::format("fx_magic = {}\n", static_cast<int64_t>(magic)));
      CHECK(run.text("p/u fx_magic") == fmt::format("fx_magic = {}\n", magic));
      CHECK(run.text("p/o fx_magic") == fmt::format("fx_magic = 0{:o}\n", magic));
      CHECK(run.text("p/t fx_magic") == fmt::format("fx_magic = {:b}\n", magic));
      CHECK(run.text("p/c fx_magic") == "fx_magic = 239 '\\357'\n");  // the low byte, unsigned
      CHECK(run.text("p/s fx_magic") == fmt::format("fx_magic = {}\n", magic));
      CHECK(run.text("p/a fx_magic") == "fx_magic = 0xc0ffee11deadbeef\n");
      CHECK(run.json("p/x fx_magic")["value"] == magic);
      CHECK(run.text("px/d fx_magic") == run.text("p/d fx_magic"));

      // Every scalar of a struct takes the letter; char arrays become numbers.
      // (Casts name vmlinux's types only, so fx_item is not used here.)
      const uint64_t weight = run.json("p init_task.se.load")["value"]["weight"];
      CHECK_THAT(run.text("p/x init_task.se.load"), Catch::StartsWith(fmt::format("init_task.se.load = {{\n  weight = {:#x},\n", weight)));
      CHECK_THAT(run.text("p/z init_task.se.load"), Catch::StartsWith(fmt::format("init_task.se.load = {{\n  weight = 0x{:016x},\n", weight)));
      CHECK_THAT(run.text("p/x init_task.comm"), Catch::StartsWith("init_task.comm = {0x73, 0x77, 0x61, 0x70, 0x70, 0x65, 0x72, 0x2f, 0x30, 0x0,"));
      CHECK_THAT(run.text("p/c init_task.comm"), Catch::StartsWith("init_task.comm = {115 's', 119 'w', 97 'a', 112 'p', 112 'p', 101 'e', 114 'r', 47 '/', 48 '0', 0 '\\000',"));
      CHECK_THAT(run.text("p/d init_task.comm"), Catch::StartsWith("init_task.comm = {115, 119, 97, 112,"));
      // Pointers: no type in front, /a names the symbol.
      const std::string init_task = dump->facts()["symbols"]["init_task"];
      CHECK(run.text("p/x &init_task") == "&init_task = " + init_task + "\n");
      CHECK(run.text("p/a &init_task") == "&init_task = " + init_task + " <init_task>\n");
      CHECK(run.text("p/s &init_task") == run.text("p &init_task"));
      CHECK(run.text("p/c (int)-1") == "(int)-1 = -1 '\\377'\n");
      CHECK(run.text("p/t (short)5") == "(short)5 = 101\n");
      CHECK(run.text("p/z (short)3") == "(short)3 = 0x0003\n");
      CHECK(run.text("p/o 0") == "0 = 0\n");
      CHECK_THAT(run.failure("p/q fx_magic"), Catch::Contains("'/q' is not a print format"));
      CHECK_THAT(run.failure("p/xx fx_magic"), Catch::Contains("not a print format"));
    }
  }
  CHECK(dumps >= 3);
}

TEST_CASE("p errors: unknown symbol, unknown member, excluded page, bad syntax", "[print][errors]") {
  for (const DumpCase& dump : all_dumps()) {
    if (dump.id != "x86_64/oops-kdump/d31") continue;
    CommandRunner run(dump);
    CHECK_THAT(run.failure("p no_such_symbol"), Catch::Contains("no symbol 'no_such_symbol'"));
    CHECK_THAT(run.failure("p init_task.nosuchmember"), Catch::Contains("no member 'nosuchmember'"));
    CHECK_THAT(run.failure("p init_task +"), Catch::Contains("ends too early"));
    CHECK_THAT(run.failure("p"), Catch::Contains("usage"));
    CHECK_THAT(run.failure("p runqueues:9999"), Catch::Contains("CPU 9999"));
    // An excluded page of the direct map (the first excluded physical page).
    const Program& program = run.program();
    std::optional<uint64_t> excluded;
    std::vector<std::byte> buf(8);
    for (const PhysRange& r : program.dump().ranges()) {
      for (uint64_t a = r.start; a < r.end() && !excluded; a += program.arch().page_size())
        if (auto got = program.dump().read(a, buf); !got && got.error().code() == Errc::excluded_by_filter) excluded = a;
      if (excluded) break;
    }
    REQUIRE(excluded);
    const uint64_t base = run.json("p page_offset_base")["value"];
    const std::string message = run.failure(fmt::format("p *(unsigned long *){:#x}", base + *excluded));
    CHECK_THAT(message, Catch::Contains("excluded by the dump filter"));
    CHECK_THAT(message, Catch::Contains(fmt::format("{:#x}", base + *excluded)));
    CHECK(message.find('\n') == std::string::npos);
  }
}

}  // namespace coroner::test
