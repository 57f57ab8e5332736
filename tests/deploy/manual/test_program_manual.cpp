// The programs' descriptions rendered as --help, man pages (checked by
// groff's own warnings) and bash completion (run in bash as the shell runs
// it): every option and every command appears, and completion answers.
#include "analyzer/frontends/manual/coroner_manual.hpp"
#include "capture/capture_manual.hpp"
#include "commands/command.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>

namespace coroner::test {

namespace {

fs::path written(const std::string& name, const std::string& text) {
  const fs::path path = cache_dir() / fmt::format("manual-{}-{}", getpid(), name);
  std::ofstream(path) << text;
  return path;
}

// What bash completion offers for the words typed (the last one being
// completed; '' for a new word), sorted, as one line.
std::string completions(const manual::ProgramManual& m, const std::string& words) {
  const fs::path script = written(m.name + ".bash", manual::bash_completion(m));
  std::string function = "_" + m.name;
  std::replace(function.begin(), function.end(), '-', '_');
  const std::string out = run_command(fmt::format(
      "cd {} && bash -c 'source {}; COMP_WORDS=({}); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); {}; "
      "printf \"%s\\n\" \"${{COMPREPLY[@]}}\" | sort | paste -sd\" \"'",
      cache_dir().string(), script.string(), words, function));
  fs::remove(script);
  return out;
}

}  // namespace

TEST_CASE("man pages list every option and command and groff reads them without warnings", "[manual]") {
  for (const manual::ProgramManual& m : {frontends::coroner_manual(), capture::capture_manual()}) {
    SECTION(m.name) {
      const std::string page = manual::man_page(m);
      CHECK_THAT(page, Catch::StartsWith(fmt::format(".TH {} {} ", m.name == "coroner" ? "CORONER" : "CORONER-CAPTURE",
                                                     m.section)));
      const fs::path file = written(m.name + ".man", page);
      // -ww: every warning (on standard error); -P-cbou: plain text, no
      // overstrike for bold and underline.
      const std::string rendered = run_command("groff -man -Tutf8 -P-cbou -ww " + file.string() + " 2>&1");
      fs::remove(file);
      CHECK(rendered.find("warning") == std::string::npos);
      CHECK_THAT(rendered, Catch::Contains("SYNOPSIS"));
      for (const manual::Option& option : m.options) {
        INFO(option.names);
        CHECK_THAT(rendered, Catch::Contains(option.names.substr(0, option.names.find(','))));
      }
      const std::string help = manual::help_text(m);
      CHECK_THAT(help, Catch::StartsWith("Usage: " + m.name + " "));
      for (const manual::Option& option : m.options)
        CHECK_THAT(help, Catch::Contains(option.argument.empty() ? option.names : option.names + " " + option.argument));
      if (m.name == "coroner") {
        for (const commands::Command& command : commands::all_commands()) {
          INFO(command.name);
          CHECK_THAT(page, Catch::Contains(".SS " + command.name + " \\- "));
        }
      }
    }
  }
}

TEST_CASE("bash completion completes options, their values and command names", "[manual][completion]") {
  const manual::ProgramManual coroner = frontends::coroner_manual();
  CHECK(completions(coroner, "coroner --out") == "--output\n");
  CHECK(completions(coroner, "coroner --output j") == "json\n");
  CHECK(completions(coroner, "coroner -x sy") == "sym sys\n");
  CHECK(completions(coroner, "coroner --mod-path /nonexistent-dir/") == "\n");
  const manual::ProgramManual capture = capture::capture_manual();
  CHECK(completions(capture, "coroner-capture --zs") == "--zstd-level\n");
  CHECK(completions(capture, "coroner-capture --num-threads \"\"") == "\n");  // a number: nothing offered
  // Files for the operands.
  const fs::path file = written("dump-to-complete", "");
  CHECK_THAT(completions(capture, "coroner-capture -c " + file.filename().string().substr(0, 12)),
             Catch::Contains(file.filename().string()));
  fs::remove(file);
}

}  // namespace coroner::test
