// A command line as the shell and batch run it (Session): crash's aliases
// and `set` variables, `!command`, `| command`, `> FILE`, `repeat`, on every
// fixture dump, checked against facts.json and against the commands run
// directly.
#include "analyzer/frontends/command_line/session.hpp"
#include "commands/interrupt.hpp"
#include "tests/commands/command_runner.hpp"

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

using namespace coroner;
using namespace coroner::test;
using coroner::frontends::Session;

namespace {

struct SessionRun {
  std::ostringstream out;
  commands::CommandContext context;
  Session session;
  explicit SessionRun(Program& program) : context{program, commands::OutputFormat::text, out, std::nullopt}, session(context, false) {}

  std::string text(const std::string& line) {
    out.str("");
    auto result = session.run(line);
    if (!result) FAIL("`" << line << "` failed: " << result.error().message());
    return out.str();
  }
};

std::string file_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("radix, aliases, pipes and files on every dump", "[command_line][session]") {
  for (const DumpCase& dump : all_dumps()) {
    if (!dump.facts().contains("values")) continue;  // arm64 QEMU dumps: no drgn facts
    SECTION(dump.id) {
      CommandRunner runner(dump);
      SessionRun run(runner.program());
      const std::string magic = dump.facts().at("values").at("fx_magic");
      const std::string px = runner.text("px fx_magic");
      REQUIRE(px.find(magic) != std::string::npos);

      // crash's built-in `hex` alias is `set radix 16`: p prints as px.
      CHECK(run.text("hex") == "output radix: 16 (hex)\n");
      CHECK(run.text("p fx_magic") == px);
      CHECK(run.text("struct fx_item") == runner.text("struct fx_item"));  // a layout has no radix
      CHECK(run.text("dec") == "output radix: 10 (decimal)\n");
      CHECK(run.text("p fx_magic") == runner.text("p fx_magic"));

      // A pipe's command reads the output; > and >> write it.
      const fs::path file = cache_dir() / "session-output.txt";
      fs::remove(file);
      CHECK(run.text("px fx_magic | cat > " + file.string()).empty());
      CHECK(file_text(file) == px);
      CHECK(run.text("px fx_magic >> " + file.string()).empty());
      CHECK(file_text(file) == px + px);
      CHECK(run.text("sys > " + file.string()).empty());
      CHECK(file_text(file) == runner.text("sys"));
      CHECK(run.text("!echo shell >> " + file.string()).empty());
      CHECK(file_text(file) == runner.text("sys") + "shell\n");
    }
  }
}

TEST_CASE("alias and set -v answer as crash 8.0.2", "[command_line][session]") {
  CommandRunner runner(fixture_case("x86_64/oops-kdump/d31"));
  SessionRun run(runner.program());
  // crash 8.0.2's `alias` (less g, px, pd and size, which coroner has as
  // commands or lacks) and its lines for one alias it is given.
  CHECK(run.text("alias") ==
        "ORIGIN   ALIAS    COMMAND\n"
        "builtin  man      help\n"
        "builtin  ?        help\n"
        "builtin  quit     q\n"
        "builtin  sf       set scroll off\n"
        "builtin  sn       set scroll on\n"
        "builtin  hex      set radix 16\n"
        "builtin  dec      set radix 10\n"
        "builtin  for      foreach\n"
        "builtin  dmesg    log\n"
        "builtin  lsmod    mod\n");
  CHECK(run.text("alias fm px fx_magic") == "runtime  fm       px fx_magic\n");
  CHECK(run.text("fm") == runner.text("px fx_magic"));
  CHECK(run.text("sf") == "scroll: off (none)\n");
  CHECK(run.text("set hash off") == "hash: off\n");
  CHECK(run.text("set console /dev/null") == "console: /dev/null\n");
  CHECK(run.text("set -v") ==
        "        scroll: off (none)\n"
        "         radix: 10 (decimal)\n"
        "       console: /dev/null\n"
        "          hash: off\n");
  // Other `set` words are the task context's (the set command).
  CHECK(run.text("set 1") == runner.text("set 1"));

  auto bad = run.session.run("set radix 8");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() == "set radix: 8 is not 10 or 16");
  CHECK(run.session.run("alias nothing").error().message() == "alias: nothing: no such alias");
}

TEST_CASE("repeat runs a command until interrupted", "[command_line][session]") {
  CommandRunner runner(fixture_case("x86_64/oops-kdump/d31"));
  SessionRun run(runner.program());
  // Another thread sets the interrupt as Ctrl-C would, until repeat ends.
  const fs::path file = cache_dir() / "repeat-output.txt";
  std::atomic<bool> done = false;
  std::thread control_c([&done] {
    while (!done) {
      commands::request_interrupt();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  auto result = run.session.run("repeat px fx_magic >> " + file.string());
  done = true;
  control_c.join();
  commands::clear_interrupt();
  REQUIRE_FALSE(result);
  CHECK(result.error().message() == "interrupted");
  CHECK(run.session.run("repeat").error().message() == "repeat: no command given");
}
