// run_command_line: a command's own `--output json|text`, which overrides
// the session's format for that command only.
#include "tests/commands/command_runner.hpp"

namespace coroner::test {

TEST_CASE("a command's own --output json or text sets its format alone", "[commands][output]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/vmcore");
  CommandRunner run(dump);
  const nlohmann::json sys = run.json("sys");
  const std::string text = run.text("sys");
  REQUIRE(sys.contains("release"));
  REQUIRE(text.find("RELEASE: ") != std::string::npos);

  // In a text session, JSON for one command; the session's text after it.
  CHECK(nlohmann::json::parse(run.text("sys --output json")) == sys);
  CHECK(nlohmann::json::parse(run.text("sys --output=json")) == sys);
  CHECK(run.text("sys") == text);
  // In a JSON session, text for one command.
  CHECK(run.json("sys") == sys);
  std::ostringstream out;
  commands::CommandContext context{run.program(), commands::OutputFormat::json, out, std::nullopt, std::nullopt};
  REQUIRE(commands::run_command_line(context, "sys --output text"));
  CHECK(out.str() == text);
  CHECK(context.format == commands::OutputFormat::json);

  // Anywhere among the arguments, the others left to the command.
  const nlohmann::json task = run.json("bt 1");
  CHECK(nlohmann::json::parse(run.text("bt --output json 1")) == task);
  CHECK(nlohmann::json::parse(run.text("foreach 1 bt --output json")) == run.json("foreach 1 bt"));

  CHECK(run.text("help").find("Any command takes --output json (or text) for its output alone") != std::string::npos);
  CHECK(run.failure("sys --output yaml") == "sys: --output yaml: expected json or text");
  CHECK(run.failure("sys --output") == "sys: --output needs json or text");
}

}  // namespace coroner::test
