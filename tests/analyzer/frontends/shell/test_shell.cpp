// The crash> shell as a user meets it: the real coroner binary on a
// pseudo-terminal (pty_session.hpp), on the x86_64 oops dump with
// fx_crash.ko. Completion, history, the pager, Ctrl-C, pipes, redirection,
// aliases from the start-up file; each answer checked against the same
// command run in-process and against facts.json.
#include "tests/analyzer/frontends/shell/pty_session.hpp"
#include "tests/commands/command_runner.hpp"

#include <fstream>
#include <sstream>

using namespace coroner;
using namespace coroner::test;

namespace {

constexpr const char* kPrompt = "crash>";

// What the terminal shows, as text: without carriage returns, bells and
// escape sequences (readline's, less's `ESC [ m` at each line end).
std::string plain_text(const std::string& screen) {
  std::string text;
  for (size_t i = 0; i < screen.size(); ++i) {
    const char c = screen[i];
    if (c == '\033') {
      if (i + 1 < screen.size() && screen[i + 1] == '[') {  // CSI: parameters, then a final byte @..~
        i += 2;
        while (i < screen.size() && !(screen[i] >= '@' && screen[i] <= '~')) ++i;
      } else {
        ++i;  // ESC = , ESC > ...
      }
    } else if (c != '\r' && c != '\a') {
      text.push_back(c);
    }
  }
  return text;
}

std::vector<std::string> lines_containing(const std::string& text, const std::string& needle) {
  std::vector<std::string> found;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) found.push_back(line);
  return found;
}

std::string file_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct ShellFixture {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  fs::path home = cache_dir() / "shell-home";
  fs::path work = home / "work";

  ShellFixture() {
    fs::remove_all(home);
    fs::create_directories(work);
    // The start-up file defines an alias the test then uses.
    std::ofstream(home / ".coronerrc") << "alias magic px fx_magic\n";
  }

  std::unique_ptr<PtySession> start() {
    const std::vector<std::string> argv = {CORONER_BINARY, "--mod-path", fs::path(dump.module_path()).parent_path().string(),
                                           dump.vmlinux(), dump.files().front()};
    const std::vector<std::string> env = {"HOME=" + home.string(), "TERM=xterm", "PATH=/usr/bin:/bin",
                                          "CORONER_CACHE_DIR=" + (cache_dir() / "coroner").string(),
                                          "CORONER_BACKGROUND_INDEX=0",
                                          // less's short prompt, so that the test sees the pager
                                          "LESS=-PsPAGER-PROMPT", "LESSHISTFILE=-"};
    return std::make_unique<PtySession>(argv, env, work.string());
  }
};

// Runs a line and returns its output (the echo of the line left out).
std::string run(PtySession& shell, const std::string& line) {
  shell.send(line + "\r");
  shell.expect(line);
  return plain_text(shell.expect(kPrompt));
}

}  // namespace

TEST_CASE("the crash> shell on a terminal", "[shell][pty]") {
  ShellFixture fixture;
  CommandRunner runner(fixture.dump);
  const std::string magic = fixture.dump.facts().at("values").at("fx_magic");
  auto shell = fixture.start();
  std::string banner = plain_text(shell->expect(kPrompt));
  CHECK(banner.find("PANIC: \"" + std::string(fixture.dump.facts().at("oops_message")) + "\"") != std::string::npos);
  CHECK(banner.find("MODULES: 1 loaded, with debug info: fx_crash") != std::string::npos);
  CHECK(banner.find("EXCLUDED: zero, cache, private cache, user, free pages (dump level 31)") != std::string::npos);

  SECTION("completion: a module's struct name, an expression's members") {
    shell->send("struct fx_it\t");
    shell->expect("em ");
    shell->send("\r");
    const std::string layout = plain_text(shell->expect(kPrompt));
    CHECK(layout.find(runner.text("struct fx_item")) != std::string::npos);

    shell->send("p init_task.co\t\t");
    shell->expect("comm");
    shell->send("\x15\r");  // Ctrl-U: drop the line
    shell->expect(kPrompt);
  }

  SECTION("history: Up recalls, !! repeats, the start-up file's alias") {
    CHECK(run(*shell, "magic").find(magic) != std::string::npos);
    shell->send("\x1b[A");  // Up
    shell->expect("magic");
    shell->send("\r");
    CHECK(plain_text(shell->expect(kPrompt)).find(magic) != std::string::npos);
    shell->send("!!\r");
    const std::string repeated = plain_text(shell->expect(kPrompt));
    CHECK(repeated.find("magic\n") != std::string::npos);  // what !! ran
    CHECK(repeated.find(magic) != std::string::npos);
    shell->send("q\r");
    CHECK(shell->wait_exit() == 0);
    CHECK(file_text(fixture.home / ".coroner_history").find("magic\n") != std::string::npos);
  }

  SECTION("a long foreach bt is paged; q leaves the pager, Ctrl-C too") {
    const std::string all = runner.text("foreach bt");
    const std::vector<std::string> pids = lines_containing(all, "PID: ");
    REQUIRE(pids.size() >= fixture.dump.facts().at("tasks").size());  // far more than a screen
    for (const char* leave : {"q", "\x03"}) {
      shell->send("foreach bt\r");
      const std::string screen = plain_text(shell->expect("PAGER-PROMPT"));
      CHECK(screen.find(pids.front()) != std::string::npos);
      CHECK(screen.find(pids.back()) == std::string::npos);  // not yet: the pager waits
      shell->send(leave);
      shell->expect(kPrompt);
      CHECK(run(*shell, "px fx_magic").find(magic) != std::string::npos);
    }
  }

  SECTION("Ctrl-C stops a running foreach bt; the next command works") {
    run(*shell, "set scroll off");
    shell->send("repeat foreach bt\r");
    shell->expect("PID: ");
    shell->send("\x03");
    CHECK(plain_text(shell->expect(kPrompt)).find("interrupted") != std::string::npos);
    CHECK(run(*shell, "px fx_magic").find(magic) != std::string::npos);
  }

  SECTION("| pipes to a shell command, > and >> write a file") {
    const std::vector<std::string> expected = lines_containing(runner.text("bt"), "fx_crash");
    REQUIRE(expected.size() >= 3);  // fx_crash_level3..1 [fx_crash]
    CHECK(lines_containing(run(*shell, "bt | grep fx_crash"), "fx_crash") == expected);

    // `log` is not merged yet: `sys` shows the redirection.
    run(*shell, "sys > sys.txt");
    CHECK(file_text(fixture.work / "sys.txt") == runner.text("sys"));
    run(*shell, "px fx_magic >> sys.txt");
    CHECK(file_text(fixture.work / "sys.txt") == runner.text("sys") + runner.text("px fx_magic"));
  }
}
