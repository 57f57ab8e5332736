// The crash> shell on a terminal with plugins: one from --plugin, one
// loaded with extend; a throwing command is one line and the prompt comes
// back; `extend -u` removes a plugin's commands; completion offers a
// plugin command's options.
#include "tests/analyzer/frontends/shell/pty_session.hpp"
#include "tests/plugins/plugin_test_support.hpp"

using namespace coroner::test;

namespace {

constexpr const char* kPrompt = "crash>";

std::string run(PtySession& shell, const std::string& line) {
  shell.send(line + "\r");
  shell.expect(line);
  return shell.expect(kPrompt);
}

}  // namespace

TEST_CASE("plugins in the crash> shell on a terminal", "[plugins][loader][pty]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  const fs::path home = cache_dir() / "plugins-home";
  fs::create_directories(home);
  std::vector<std::string> argv = {CORONER_BINARY, "--plugin", example_plugin("fxitems"), "--mod-path",
                                   fs::path(dump.module_path()).parent_path().string(), dump.vmlinux()};
  for (const std::string& file : dump.files()) argv.push_back(file);
  const std::vector<std::string> env = {"HOME=" + home.string(), "TERM=dumb", "PATH=/usr/bin:/bin", "CORONER_PLUGIN_PATH=",
                                        "CORONER_CACHE_DIR=" + (cache_dir() / "coroner").string(),
                                        "CORONER_BACKGROUND_INDEX=0", "PAGER=cat"};
  PtySession shell(argv, env, home.string());
  shell.expect(kPrompt);
  run(shell, "set scroll off");
  const nlohmann::json& items = dump.facts().at("values").at("fx_items");
  CHECK_THAT(run(shell, "fxitems"), Catch::Contains(items[4]["name"].get<std::string>()));
  CHECK_THAT(run(shell, "extend " + test_plugin("throwing")), Catch::Contains("shared object loaded"));
  CHECK_THAT(run(shell, "boom"), Catch::Contains("boom: boom went the plugin"));
  CHECK_THAT(run(shell, "px fx_magic"), Catch::Contains(dump.facts().at("values").at("fx_magic").get<std::string>()));
  CHECK_THAT(run(shell, "extend " + example_plugin("hungtasks")), Catch::Contains("shared object loaded"));
  shell.send("hungtasks -\t");
  shell.expect("-i ");
  shell.send("\r");
  CHECK_THAT(shell.expect(kPrompt), Catch::Contains("COMMAND: \"kworker/"));
  CHECK_THAT(run(shell, "extend -u fxitems"), Catch::Contains("shared object unloaded"));
  CHECK_THAT(run(shell, "fxitems"), Catch::Contains("fxitems: command not found"));
  shell.send("q\r");
}
