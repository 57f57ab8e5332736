// swap on every fixture dump: the fixture guests never enable swap (their
// init runs no swapon; the console has no "Adding ...k swap"), so the table is crash's header alone, and crash
// 8.0.2 prints the same on the x86_64 dumps.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"
#include "tests/commands/guest_console.hpp"

namespace coroner::test {

constexpr const char* kSwapHeader = "SWAP_INFO_STRUCT    TYPE       SIZE       USED     PCT  PRI  FILENAME\n";

TEST_CASE("swap shows no swap area on every dump", "[swap][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      CHECK(run.text("swap") == kSwapHeader);
      CHECK(run.json("swap")["swap"].empty());
      // swapon would have said "Adding 1048572k swap on /dev/vda2. ...".
      CHECK_FALSE(console_capture(dump, std::regex(R"((Adding \d+k swap))")));
    }
  }
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("swap 1"), Catch::Contains("swap takes no arguments"));
}

TEST_CASE("swap prints what crash 8.0.2 prints on an x86_64 dump", "[swap][crash]") {
  if (!crash_installed()) return;
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  const std::vector<std::string> expected = crash_outputs(dump, {"swap"});
  REQUIRE(expected.size() == 1);
  CommandRunner run(dump);
  check_same_lines(run.text("swap"), expected[0]);
}

}  // namespace coroner::test
