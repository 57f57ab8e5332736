// struct and union: layouts against pahole and crash's text, members of
// facts' tasks, counts and errors.
#include "tests/analyzer/test_object_dumps.hpp"
#include "tests/commands/command_runner.hpp"

#include <set>

#include <map>
#include <regex>
#include <sstream>

namespace coroner::test {

namespace {

// Offsets of the top-level, non-bitfield members pahole prints for a struct.
std::map<std::string, uint64_t> pahole_offsets(const std::string& vmlinux, const std::string& type) {
  std::string text = run_command("pahole -C " + type + " " + vmlinux);
  std::map<std::string, uint64_t> offsets;
  static const std::regex member(R"(^\t[^\t/].*?([A-Za-z_][A-Za-z0-9_]*)(\[[0-9]*\])*;\s*/\*\s*([0-9]+)\s+[0-9]+\s*\*/)");
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, member)) offsets[m[1]] = std::stoull(m[3]);
  }
  return offsets;
}

}  // namespace

TEST_CASE("struct task_struct -o gives pahole's offsets on every kernel", "[struct][pahole]") {
  std::set<std::string> kernels;
  for (const DumpCase* dump : object_test_dumps()) {
    if (!kernels.insert(dump->arch_dir).second) continue;
    SECTION(dump->id) {
      CommandRunner run(*dump);
      const auto expected = pahole_offsets(dump->vmlinux(), "task_struct");
      REQUIRE(expected.size() >= 100);
      nlohmann::json layout = run.json("struct task_struct -o");
      size_t compared = 0;
      for (const auto& member : layout["members"]) {
        auto it = expected.find(member["name"]);
        if (it == expected.end() || member["bit_size"] != 0) continue;
        INFO(member["name"]);
        CHECK(member["offset"] == it->second);
        ++compared;
      }
      CHECK(compared >= 100);
      // The text column carries the same offsets.
      std::string text = run.text("struct task_struct -o");
      CHECK_THAT(text, Catch::Contains(fmt::format("[{}] char comm[16];\n", expected.at("comm"))));
      CHECK_THAT(text, Catch::Contains(fmt::format("[{}] struct list_head tasks;\n", expected.at("tasks"))));
      CHECK_THAT(text, Catch::Contains(fmt::format("[{}] pid_t pid;\n", expected.at("pid"))));
    }
  }
}

TEST_CASE("p fx_magic and struct fx_item on every dump that holds fx_crash", "[struct][print][facts][modules]") {
  size_t dumps = 0;
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("values") || !facts["values"].contains("fx_magic")) continue;
    ++dumps;
    SECTION(dump.id) {
      CommandRunner run(dump);
      const std::string magic = facts["values"]["fx_magic"];
      CHECK(magic == "0xc0ffee11deadbeef");
      CHECK(run.text("px fx_magic") == "fx_magic = " + magic + "\n");
      CHECK(run.text("p fx_magic") == fmt::format("fx_magic = {}\n", hex_value(magic)));
      CHECK(run.json("p fx_magic")["value"] == hex_value(magic));

      // The layout is the module's own, as pahole reads it from fx_crash.ko.
      const auto expected = pahole_offsets(dump.module_path(), "fx_item");
      REQUIRE(expected.size() == 4);
      const std::string text = run.text("struct fx_item -o");
      CHECK_THAT(text, Catch::StartsWith("struct fx_item {\n"));
      CHECK_THAT(text, Catch::Contains(fmt::format("[{}] u32 id;\n", expected.at("id"))));
      CHECK_THAT(text, Catch::Contains(fmt::format("[{}] char name[16];\n", expected.at("name"))));
      CHECK_THAT(text, Catch::Contains(fmt::format("[{}] u64 value;\n", expected.at("value"))));
      CHECK_THAT(text, Catch::Contains(fmt::format("[{}] struct list_head node;\n", expected.at("node"))));
      const std::string pahole = run_command("pahole -C fx_item " + dump.module_path());
      const size_t at = pahole.find("/* size: ");
      REQUIRE(at != std::string::npos);
      const uint64_t size = std::stoull(pahole.substr(at + 9));
      CHECK_THAT(text, Catch::EndsWith(fmt::format("}}\nSIZE: {}\n", size)));
      CHECK(run.text("struct fx_item") ==
            fmt::format("struct fx_item {{\n    u32 id;\n    char name[16];\n    u64 value;\n"
                        "    struct list_head node;\n}}\nSIZE: {}\n", size));
    }
  }
  CHECK(dumps >= 5);
}

TEST_CASE("struct layouts print as crash prints them", "[struct][crash]") {
  const DumpCase* dump = object_test_dumps().front();
  CommandRunner run(*dump);
  // Text of crash 8.0.2 on the x86_64 kernel (the same on every kernel).
  CHECK(run.text("struct list_head") ==
        "struct list_head {\n    struct list_head *next;\n    struct list_head *prev;\n}\nSIZE: 16\n");
  CHECK(run.text("struct list_head -o") ==
        "struct list_head {\n   [0] struct list_head *next;\n   [8] struct list_head *prev;\n}\nSIZE: 16\n");
  CHECK(run.text("struct qspinlock -o") ==
        "struct qspinlock {\n"
        "      union {\n"
        "  [0]     atomic_t val;\n"
        "          struct {\n"
        "  [0]         u8 locked;\n"
        "  [1]         u8 pending;\n"
        "          };\n"
        "          struct {\n"
        "  [0]         u16 locked_pending;\n"
        "  [2]         u16 tail;\n"
        "          };\n"
        "      };\n"
        "}\n"
        "SIZE: 4\n");
  std::string task = run.text("struct task_struct");
  CHECK_THAT(task, Catch::Contains("    union {\n        refcount_t rcu_users;\n        struct callback_head rcu;\n    };\n"));
  CHECK_THAT(task, Catch::Contains("    unsigned int sched_reset_on_fork : 1;\n"));
  CHECK_THAT(task, Catch::Contains("    const struct sched_class *sched_class;\n"));
  CHECK_THAT(task, Catch::Contains("    struct hlist_node pid_links[4];\n"));
  nlohmann::json layout = run.json("struct qspinlock");
  CHECK(layout["size"] == 4);
  CHECK(layout["members"][0]["type"] == "union");
  CHECK(layout["members"][0]["members"][1]["members"][1]["name"] == "pending");
  CHECK(layout["members"][0]["members"][1]["members"][1]["offset"] == 1);
  nlohmann::json bits = run.json("struct task_struct.in_execve");
  CHECK(bits["members"][0]["bit_size"] == 1);
  // union works like struct.
  CHECK_THAT(run.text("union bpf_attr"), Catch::StartsWith("union bpf_attr {\n"));
}

TEST_CASE("struct NAME.MEMBERS ADDRESS prints those members of facts' tasks", "[struct][facts]") {
  for (const DumpCase* dump : object_test_dumps()) {
    if (fact_tasks(*dump).empty()) continue;
    SECTION(dump->id) {
      CommandRunner run(*dump);
      const size_t comm_size = run.json("p sizeof(init_task.comm)")["value"];
      for (const auto& task : fact_tasks(*dump)) {
        std::string address = task["task"];
        address = address.substr(2);  // crash's bare hex
        INFO(task["comm"] << " at " << address);
        CHECK(run.text("struct task_struct.comm,pid " + address) ==
              fmt::format("  comm = {},\n  pid = {},\n", crash_char_array(task["comm"], comm_size),
                          task["pid"].get<int>()));
        CHECK(run.text("struct task_struct.pid -x " + address) == fmt::format("  pid = {:#x},\n", task["pid"].get<int>()));
        nlohmann::json members = run.json("struct task_struct.comm,pid,tgid " + address);
        CHECK(members["value"]["comm"] == task["comm"]);
        CHECK(members["value"]["pid"] == task["pid"]);
        CHECK(members["value"]["tgid"] == task["tgid"]);
      }
      // A whole struct at a symbol, and COUNT consecutive ones.
      nlohmann::json tasks = run.json("p init_task.tasks");
      CHECK(run.text("struct list_head init_task+" +
                     std::to_string(*run.program().member_offset("task_struct", "tasks"))) ==
            fmt::format("struct list_head {{\n  next = {},\n  prev = {}\n}}\n", tasks["value"]["next"].get<std::string>(),
                        tasks["value"]["prev"].get<std::string>()));
      nlohmann::json two = run.json("struct list_head init_task 2");
      REQUIRE(two["objects"].size() == 2);
      CHECK_THAT(run.text("struct list_head init_task 2"), Catch::Contains("}\n\nstruct list_head {\n"));  // as crash
      std::string with_address = run.text("struct list_head -o init_task");
      CHECK_THAT(with_address, Catch::Contains(fmt::format("[{:x}] struct list_head *next;",
                                                           hex_value(dump->facts()["symbols"]["init_task"]))));
    }
  }
}

TEST_CASE("struct -l takes the address of an embedded list_head and prints facts' fx_items", "[struct][facts]") {
  for (const DumpCase* dump : object_test_dumps()) {
    if (!dump->facts()["values"].contains("fx_items")) continue;
    SECTION(dump->id) {
      CommandRunner run(*dump);
      uint64_t node = 0, name_size = 0;
      const nlohmann::json layout = run.json("struct fx_item -o");
      for (const auto& member : layout["members"]) {
        if (member["name"] == "node") node = member["offset"];
        if (member["name"] == "name") name_size = member["size"];
      }
      REQUIRE(node > 0);
      REQUIRE(name_size > 0);
      for (const auto& item : dump->facts()["values"]["fx_items"]) {
        const uint64_t address = hex_value(item["addr"]);
        const std::string at = fmt::format("{:x}", address + node);
        INFO(item["name"] << " with its node at " << at);
        const std::string text = run.text("struct fx_item -l fx_item.node " + at);
        CHECK_THAT(text, Catch::StartsWith(fmt::format("struct fx_item {{\n  id = {},\n  name = {},\n  value = {},\n",
                                                       item["id"].get<int>(), crash_char_array(item["name"], name_size),
                                                       hex_value(item["value"]))));
        CHECK(run.text(fmt::format("struct fx_item -l {} {}", node, at)) == text);
        CHECK(run.text("struct fx_item.id,name -l fx_item.node " + at) ==
              fmt::format("  id = {},\n  name = {},\n", item["id"].get<int>(), crash_char_array(item["name"], name_size)));
        nlohmann::json json = run.json("struct fx_item -l fx_item.node " + at);
        CHECK(hex_value(json["address"]) == address);
        CHECK(json["value"]["id"] == item["id"]);
        CHECK(json["value"]["name"] == item["name"]);
        CHECK_THAT(run.text("struct fx_item -o -l fx_item.node " + at),
                   Catch::Contains(fmt::format("  [{:x}] u32 id;\n", address)));
      }
      // Without an address, -l changes nothing; a bad offset is one line.
      CHECK(run.text("struct fx_item -l fx_item.node") == run.text("struct fx_item"));
      CHECK_THAT(run.failure("struct fx_item -l fx_item.nope 0xffff0000"), Catch::Contains("invalid -l option: fx_item.nope"));
      CHECK_THAT(run.failure("struct fx_item -l 64 0x10"), Catch::Contains("lies below address 0x10"));
      CHECK_THAT(run.failure("struct fx_item -l"), Catch::Contains("-l needs"));
    }
  }
}

TEST_CASE("struct errors are one line", "[struct][errors]") {
  const DumpCase* dump = object_test_dumps().front();
  CommandRunner run(*dump);
  CHECK_THAT(run.failure("struct no_such_type"), Catch::Contains("invalid data structure reference: no_such_type"));
  CHECK_THAT(run.failure("struct task_struct.no_such_member"), Catch::Contains("no member 'no_such_member'"));
  CHECK_THAT(run.failure("struct list_head 10 0"), Catch::Contains("bad count"));
  CHECK_THAT(run.failure("struct -q list_head"), Catch::Contains("unknown option -q"));
  CHECK_THAT(run.failure("struct"), Catch::Contains("usage"));
  CHECK_THAT(run.failure("struct list_head 10"), Catch::Contains("0x10"));
}

}  // namespace coroner::test
