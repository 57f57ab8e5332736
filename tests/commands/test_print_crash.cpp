// p, struct, whatis and ptype next to crash 8.0.2 itself on the x86_64
// oops dump: the same text, once crash's "$N = " history numbers are
// dropped (coroner prints "EXPRESSION = " instead). Char arrays included:
// both show every byte ("swapper/0\000\000...").
#include "tests/analyzer/test_object_dumps.hpp"
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"

#include <regex>

namespace coroner::test {

namespace {

// The dump the comparisons run on, or nullptr (with a warning) when crash
// is not installed.
const DumpCase* crash_comparison_dump() {
  if (!crash_installed()) return nullptr;
  return &fixture_case("x86_64/oops-kdump/d31");
}

// Each command's text from coroner and from crash (`p`: from the value on).
void compare_with_crash(CommandRunner& run, const std::vector<std::string>& commands,
                        const std::vector<std::string>& expected) {
  REQUIRE(expected.size() == commands.size());
  const std::regex history(R"(^(\S.*? = )?\$[0-9]+ = )");
  for (size_t i = 0; i < commands.size(); ++i) {
    INFO(commands[i]);
    std::string theirs = expected[i];
    std::string ours = run.text(commands[i]);
    if (commands[i].starts_with("p ") || commands[i].starts_with("p/") || commands[i].starts_with("px ") ||
        commands[i].starts_with("pd ")) {
      // "$1 = " / "per_cpu(runqueues, 1) = $1 = " become "EXPR = ".
      theirs = std::regex_replace(theirs, history, "", std::regex_constants::format_first_only);
      ours = ours.substr(ours.find(" = ") + 3);
    }
    CHECK(ours == theirs);
  }
}

}  // namespace

TEST_CASE("p, struct, whatis and ptype print what crash 8.0.2 prints", "[print][crash]") {
  const DumpCase* dump = crash_comparison_dump();
  if (!dump) return;
  CommandRunner run(*dump);
  const std::vector<std::string> commands = {
      "p runqueues:1",          "p init_task.se",       "p *init_task.tasks.next", "p init_task.pid_links",
      "p init_task.sched_class", "struct task_struct -o", "struct sched_entity -o",  "whatis struct task_struct",
      "ptype struct rq",         "whatis init_task",      "ptype enum pid_type",     "p init_task.thread_info",
  };
  compare_with_crash(run, commands, crash_outputs(*dump, commands));
}

TEST_CASE("char arrays and struct -l print what crash 8.0.2 prints", "[print][struct][crash]") {
  const DumpCase* found = crash_comparison_dump();
  if (!found) return;
  const DumpCase& dump = *found;
  CommandRunner run(dump);
  const auto& items = dump.facts()["values"]["fx_items"];
  REQUIRE(items.size() == 5);
  uint64_t node = 0;
  const nlohmann::json layout = run.json("struct fx_item -o");
  for (const auto& member : layout["members"])
    if (member["name"] == "node") node = member["offset"];
  const std::string second_node = fmt::format("{:x}", hex_value(items[1]["addr"]) + node);
  const std::string init_task = dump.facts()["symbols"]["init_task"];
  const std::vector<std::string> commands = {
      "p init_task.comm",
      "px init_task.comm",
      "p init_uts_ns.name",
      "p linux_banner",
      "struct task_struct.comm " + init_task.substr(2),
      "struct task_struct.comm,pid -x " + init_task.substr(2),
      "struct fx_item -l fx_item.node " + second_node,
      "struct fx_item.id,name -l fx_item.node " + second_node,
      fmt::format("struct fx_item -l {} {} 2", node, second_node),
      "struct fx_item -o -l fx_item.node " + second_node,
  };
  // crash needs the module's debug info loaded by hand; coroner finds it.
  std::vector<std::string> with_module = {"mod -s fx_crash " + dump.module_path()};
  with_module.insert(with_module.end(), commands.begin(), commands.end());
  std::vector<std::string> expected = crash_outputs(dump, with_module);
  REQUIRE(expected.size() == with_module.size());
  REQUIRE_THAT(expected[0], Catch::Contains(dump.module_path()));
  expected.erase(expected.begin());
  compare_with_crash(run, commands, expected);
}

}  // namespace coroner::test

namespace coroner::test {

// crash hands p/FMT to gdb: the same letters, structs and arrays included.
TEST_CASE("p/x, p/d, p/u, p/o, p/t, p/c, p/a, p/z print what crash 8.0.2 prints", "[print][format][crash]") {
  const DumpCase* found = crash_comparison_dump();
  if (!found) return;
  const DumpCase& dump = *found;
  CommandRunner run(dump);
  std::vector<std::string> commands;
  for (const char* letter : {"x", "d", "u", "o", "t", "c", "a", "z", "s"}) commands.push_back(fmt::format("p/{} fx_magic", letter));
  for (const char* expression : {"init_task.comm", "init_task.se.load", "init_task.prio", "system_state",
                                 "init_task.comm[1]", "(int)-1", "(char)-56", "(unsigned char)200", "init_task.cpus_mask"})
    for (const char* letter : {"x", "d", "c", "t", "z"}) commands.push_back(fmt::format("p/{} {}", letter, expression));
  // Pointers: gdb 10 prints p/d of a pointer as a 32-bit int (a bug coroner
  // does not copy: it prints the 64-bit value), so /d is left out.
  for (const char* expression : {"init_task.tasks", "*init_task.sched_class"})
    for (const char* letter : {"x", "c", "t", "z"}) commands.push_back(fmt::format("p/{} {}", letter, expression));
  for (const char* expression : {"&init_task", "init_task.sched_class"})
    for (const char* letter : {"x", "u", "o", "t", "a", "s"}) commands.push_back(fmt::format("p/{} {}", letter, expression));
  for (const char* letter : {"x", "c", "t", "z"}) commands.push_back(fmt::format("p/{} init_task.se", letter));
  std::vector<std::string> with_module = {"mod -s fx_crash " + dump.module_path()};
  with_module.insert(with_module.end(), commands.begin(), commands.end());
  std::vector<std::string> expected = crash_outputs(dump, with_module);
  REQUIRE(expected.size() == with_module.size());
  expected.erase(expected.begin());
  compare_with_crash(run, commands, expected);
}

}  // namespace coroner::test
