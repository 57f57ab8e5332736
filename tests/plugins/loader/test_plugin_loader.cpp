// Must-show 3: a plugin built against another API version, a shared object
// that is no plugin, one without init, an init that throws and commands
// that throw -- each one line of error, and the next command still works;
// then unloading, --plugin, the plugin directories and --list-plugins.
#include "tests/plugins/plugin_test_support.hpp"

#include <algorithm>

using namespace coroner::test;

namespace {

size_t count_lines_with(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (const std::string& line : lines_of(text)) n += line.find(needle) != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("broken plugins: one clear line each, and the session goes on", "[plugins][loader]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  const std::string magic = dump.facts().at("values").at("fx_magic");
  const std::vector<std::string> commands = {
      "extend " + test_plugin("wrong_version"), "px fx_magic",
      "extend " + test_plugin("not_a_plugin"),  "px fx_magic",
      "extend " + test_plugin("no_init"),       "extend " + test_plugin("throwing_init"),
      "halfway",                                "extend " + test_plugin("throwing"),
      "boom",                                   "px fx_magic",
      "boomint",                                "badread",
      "extend",                                 "extend -u throwing",
      "boom",                                   "px fx_magic"};
  // The shell's commands (-x) and standard input's (batch) behave alike.
  for (const std::string& input : {commands_x(commands), commands_stdin(commands, "loader")}) {
    INFO(input);
    const RunResult run = run_any(coroner_env() + " -s" + dump_arguments(dump) + input);
    CHECK(run.status != 0);  // commands failed
    const std::string& out = run.output;
    CHECK(count_lines_with(out, "built against plugin API version 42, this coroner has version 1") == 1);
    CHECK(count_lines_with(out, "not_a_plugin.so: not a coroner plugin (no coroner_plugin_info") == 1);
    CHECK(count_lines_with(out, "no_init.so: plugin noinit has no coroner_plugin_init") == 1);
    CHECK(count_lines_with(out, "throwing_init.so: plugin throwinginit: init failed: init gave up") == 1);
    CHECK(count_lines_with(out, "halfway: command not found") == 1);  // nothing of a failed init stays
    CHECK(count_lines_with(out, "boom: boom went the plugin") == 1);
    CHECK(count_lines_with(out, "boomint: unknown exception") == 1);
    CHECK(count_lines_with(out, "badread: ") == 1);
    CHECK(count_lines_with(out, "boom: command not found") == 1);  // after extend -u
    // Every px after a failure printed the value: the session went on.
    CHECK(count_lines_with(out, magic) >= 4);
    CHECK(count_lines_with(out, "throwing.so: shared object loaded (throwing 1.0: boom boomint badread)") == 1);
    CHECK(count_lines_with(out, "throwing.so: shared object unloaded") == 1);
  }
}

TEST_CASE("plugins from --plugin, the plugin directories and --list-plugins", "[plugins][loader]") {
  const fs::path dir = cache_dir() / "plugin-dir";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(example_plugin("fxitems"), dir / "fxitems.so");
  fs::copy_file(test_plugin("not_a_plugin"), dir / "not_a_plugin.so");
  // From $CORONER_PLUGIN_PATH: fxitems loads, the other is one line.
  const RunResult listed = run_any(coroner_env(dir.string()) + " --list-plugins --plugin " + example_plugin("hungtasks"));
  CHECK(listed.status == 0);
  CHECK_THAT(listed.output, Catch::Contains("not_a_plugin.so: not a coroner plugin"));
  const std::vector<std::string> lines = lines_of(listed.output);
  const auto row = [&](const std::string& name) {
    return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
      return l.starts_with(name + " ") && l.find(" 1.0 ") != std::string::npos && l.ends_with(" " + name);
    });
  };
  CHECK(row("fxitems") == 1);
  CHECK(row("hungtasks") == 1);
  const nlohmann::json json = json_document(run_any(coroner_env(dir.string()) + " --list-plugins --output json").output);
  REQUIRE(json.at("plugins").size() == 1);
  CHECK(json["plugins"][0]["name"] == "fxitems");
  CHECK(json["plugins"][0]["commands"] == nlohmann::json::array({"fxitems"}));
  // The directories' plugins load at start; extend NAME finds one there
  // again after -u; -s lists the directories in order.
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  fs::rename(dir / "fxitems.so", dir / "fx.so");
  fs::remove(dir / "not_a_plugin.so");
  const RunResult run = run_any(coroner_env(dir.string()) + " -s" + dump_arguments(dump) +
                                commands_x({"extend -s", "fxitems", "extend -u fxitems", "extend fx", "fxitems"}));
  CHECK(run.status == 0);
  CHECK(lines_of(run.output).front() == dir.string());
  CHECK(count_lines_with(run.output, "item-5") == 2);
  CHECK(count_lines_with(run.output, dir.string() + "/fx.so: shared object unloaded (fxitems 1.0: fxitems)") == 1);
  CHECK(count_lines_with(run.output, dir.string() + "/fx.so: shared object loaded (fxitems 1.0: fxitems)") == 1);
}

TEST_CASE("plugins' triage checks: findings in the report, a throwing check under problems", "[plugins][loader][triage]") {
  const fs::path dir = cache_dir() / "plugin-dir-triage";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(test_plugin("throwing"), dir / "throwing.so");
  fs::copy_file(example_plugin("hungtasks"), dir / "hungtasks.so");
  fs::copy_file(example_plugin("stackgroups"), dir / "stackgroups.so");
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  const std::string magic = dump.facts().at("values").at("fx_magic");
  const nlohmann::json report =
      json_document(run_command(coroner_env(dir.string()) + " triage --format json --sections checks" + dump_arguments(dump)));
  // The fixtures have no task in D state: hungtasks' and stackgroups' checks find nothing.
  const nlohmann::json expected = nlohmann::json::array(
      {{{"check", "always"}, {"severity", "info"}, {"summary", "fx_magic is " + magic}, {"details", {"a detail"}}}});
  CHECK(report.at("checks") == expected);
  CHECK(std::count(report["problems"].begin(), report["problems"].end(), "check boom-check: the check failed") == 1);
  const std::string text = run_command(coroner_env(dir.string()) + " triage --sections checks" + dump_arguments(dump));
  CHECK_THAT(text, Catch::Contains("[info] always: fx_magic is " + magic));
}
