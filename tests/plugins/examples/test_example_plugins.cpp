// Must-show 1: the example plugins load in the shell's commands (-x, extend)
// and in batch mode (standard input, --plugin) on every fixture dump, and
// answer right: fxitems equals facts.json's fx_items, hungtasks lists
// exactly the tasks ps shows in D state (UN; with -i also ID, TASK_IDLE),
// and stackgroups accounts for every task ps lists, with bt's stacks.
#include "tests/plugins/plugin_test_support.hpp"

#include <cstdio>
#include <set>

using namespace coroner::test;

namespace {

std::string fmt_hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

// fxitems' text line of a facts.json item.
std::string fmt_item(const nlohmann::json& item) {
  char line[128];
  std::snprintf(line, sizeof line, "%016llx  %4llu  %-16s  %016llx", static_cast<unsigned long long>(hex_value(item["addr"])),
                static_cast<unsigned long long>(item["id"].get<uint64_t>()), item["name"].get<std::string>().c_str(),
                static_cast<unsigned long long>(hex_value(item["value"])));
  return line;
}

std::vector<std::string> plugin_commands() {
  return {"fxitems", "hungtasks", "hungtasks -i", "stackgroups", "ps"};
}

void check_documents(const DumpCase& dump, const std::vector<nlohmann::json>& documents) {
  // fxitems: exactly facts.json's items, in list order. arm64's QEMU dumps
  // have no drgn facts (fixtures README): there the module's known
  // contents (ids 1-5, item-N, fx_magic ^ id), without addresses.
  nlohmann::json expected = nlohmann::json::array();
  if (dump.facts().contains("values")) expected = dump.facts()["values"]["fx_items"];
  else
    for (uint64_t id = 1; id <= 5; ++id)
      expected.push_back({{"id", id}, {"name", "item-" + std::to_string(id)}, {"value", fmt_hex(0xc0ffee11deadbeefULL ^ id)}});
  const nlohmann::json& items = document_with(documents, "fx_items").at("fx_items");
  REQUIRE(items.size() == expected.size());
  for (size_t i = 0; i < items.size(); ++i) {
    INFO("item " << i);
    if (expected[i].contains("addr")) CHECK(hex_value(items[i]["addr"]) == hex_value(expected[i]["addr"]));
    CHECK(items[i]["id"] == expected[i]["id"]);
    CHECK(items[i]["name"] == expected[i]["name"]);
    CHECK(hex_value(items[i]["value"]) == hex_value(expected[i]["value"]));
  }
  // hungtasks against coroner's own ps.
  const nlohmann::json& ps = document_with(documents, "tasks").at("tasks");
  std::set<std::pair<int64_t, uint64_t>> ps_un, ps_un_id;
  for (const nlohmann::json& t : ps) {
    const std::pair<int64_t, uint64_t> key{t["pid"], hex_value(t["task"])};
    if (t["st"] == "UN") ps_un.insert(key);
    if (t["st"] == "UN" || t["st"] == "ID") ps_un_id.insert(key);
  }
  for (size_t nth : {0, 1}) {
    std::set<std::pair<int64_t, uint64_t>> listed;
    for (const nlohmann::json& t : document_with(documents, "hung_tasks", nth).at("hung_tasks")) {
      listed.insert({t["pid"], hex_value(t["task"])});
      CHECK_FALSE(t["frames"].empty());
      CHECK(t["frames"][0]["function"] != "");
    }
    CHECK(listed == (nth == 0 ? ps_un : ps_un_id));
  }
  CHECK_FALSE(ps_un_id.empty());  // the fixtures have TASK_IDLE kworkers: -i is checked on real tasks
  // stackgroups: every task of ps once.
  std::multiset<std::pair<int64_t, uint64_t>> grouped, all;
  for (const nlohmann::json& g : document_with(documents, "groups").at("groups")) {
    CHECK(g["count"] == g["tasks"].size());
    for (const nlohmann::json& t : g["tasks"]) grouped.insert({t["pid"], hex_value(t["task"])});
  }
  for (const nlohmann::json& t : ps) all.insert({t["pid"], hex_value(t["task"])});
  CHECK(grouped == all);
}

}  // namespace

TEST_CASE("example plugins on every fixture dump, shell and batch", "[plugins][examples]") {
  for (const DumpCase& dump : all_dumps()) {
    INFO(dump.id);
    // The shell's commands: extend loads the plugins, then they run.
    std::vector<std::string> shell = {"extend " + example_plugin("fxitems"), "extend " + example_plugin("hungtasks"),
                                      "extend " + example_plugin("stackgroups")};
    for (const std::string& c : plugin_commands()) shell.push_back(c);
    const std::string shell_output =
        run_command(coroner_env() + " -s --output json" + dump_arguments(dump) + commands_x(shell));
    check_documents(dump, json_documents(shell_output));
    // Batch mode: --plugin, commands from standard input.
    const std::string batch_output =
        run_command(coroner_env() + " -s --output json --plugin " + example_plugin("fxitems") + " --plugin " +
                    example_plugin("hungtasks") + " --plugin " + example_plugin("stackgroups") + dump_arguments(dump) +
                    commands_stdin(plugin_commands(), "examples"));
    check_documents(dump, json_documents(batch_output));
  }
}

TEST_CASE("example plugins' text output", "[plugins][examples]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  const std::string out = run_command(coroner_env() + " -s --plugin " + example_plugin("fxitems") + " --plugin " +
                                      example_plugin("hungtasks") + " --plugin " + example_plugin("stackgroups") +
                                      dump_arguments(dump) + commands_x({"fxitems", "hungtasks", "help fxitems"}));
  const std::vector<std::string> lines = lines_of(out);
  REQUIRE(lines.size() > 7);
  CHECK(lines[0] == "      ITEM          ID  NAME              VALUE");
  const nlohmann::json& first = dump.facts().at("values").at("fx_items")[0];
  CHECK(lines[1] == fmt_item(first));
  CHECK_THAT(out, Catch::Contains("no tasks in D state"));
  CHECK_THAT(out, Catch::Contains("NAME\n  fxitems - list fx_crash.ko's fx_items"));
}
