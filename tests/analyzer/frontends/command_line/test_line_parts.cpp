// Where a crash command line ends and its pipe or redirection starts.
#include "analyzer/frontends/command_line/line_parts.hpp"

#include <catch2/catch.hpp>

using namespace coroner::frontends;

namespace {

LineParts parts(std::string_view line) {
  auto split = split_line_parts(line);
  if (!split) FAIL(line << ": " << split.error().message());
  return *split;
}

}  // namespace

TEST_CASE("a command line splits at its pipe or redirection", "[command_line]") {
  LineParts piped = parts("bt -a | grep fx_crash");
  CHECK(piped.command == "bt -a");
  CHECK(piped.route == OutputRoute::pipe);
  CHECK(piped.target == "grep fx_crash");

  LineParts written = parts("log > log.txt");
  CHECK(written.command == "log");
  CHECK(written.route == OutputRoute::file);
  CHECK(written.target == "log.txt");

  LineParts appended = parts("sys>>all.txt");
  CHECK(appended.command == "sys");
  CHECK(appended.route == OutputRoute::append);
  CHECK(appended.target == "all.txt");

  // `->`, parentheses and quotes belong to the command.
  CHECK(parts("p init_task.mm->pgd").route == OutputRoute::terminal);
  CHECK(parts("eval (1 | 2)").route == OutputRoute::terminal);
  CHECK(parts("p (a > b)").route == OutputRoute::terminal);
  CHECK(parts("search -s 'x|y'").route == OutputRoute::terminal);
  LineParts member = parts("p init_task.mm->pgd > pgd.txt");
  CHECK(member.command == "p init_task.mm->pgd");
  CHECK(member.target == "pgd.txt");
  // The pipe's command may redirect itself: it is /bin/sh's.
  CHECK(parts("bt | cat > x").target == "cat > x");
}

TEST_CASE("a pipe or redirection without its other side is a one-line error", "[command_line]") {
  CHECK(split_line_parts("bt |").error().message() == "| needs a shell command");
  CHECK(split_line_parts("sys >  ").error().message() == "> needs a file name");
  CHECK(split_line_parts("sys >>").error().message() == ">> needs a file name");
  CHECK(split_line_parts("| grep x").error().message() == "no command before |");
}
