// files on every fixture dump: init's console descriptors (/dev/console, a
// character device on devtmpfs, reached across the /dev mount point), its
// root and working directory, -d on a dentry, a kernel thread, bad input.
#include "tests/commands/command_runner.hpp"

#include <map>
#include <set>

namespace coroner::test {

TEST_CASE("files 1 names init's console files with their paths on every dump", "[files][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json files = run.json("files 1");
      CHECK(files["pid"] == 1);
      CHECK(files["root"] == "/");
      CHECK(files["cwd"] == "/");
      CHECK_FALSE(files.contains("errors"));
      std::map<int64_t, nlohmann::json> by_fd;
      for (const auto& f : files["files"]) by_fd[f["fd"]] = f;
      // busybox init's stdin, stdout and stderr: the console (init's stdout
      // may since have been redirected, as in the oops scenario's `echo >`).
      REQUIRE(by_fd.count(0));
      REQUIRE(by_fd.count(2));
      for (int fd : {0, 2}) {
        INFO("fd " << fd << ": " << by_fd[fd].dump());
        CHECK(by_fd[fd]["path"] == "/dev/console");
        CHECK(by_fd[fd]["type"] == "CHR");
      }
      // One struct file for the console, opened once and duplicated.
      CHECK(by_fd[0]["file"] == by_fd[2]["file"]);
      std::set<std::string> types;
      for (const auto& f : files["files"]) {
        types.insert(f["type"].get<std::string>());
        CHECK(f["path"].is_string());
        CHECK(f["path"].get<std::string>().starts_with("/"));
      }

      const std::string text = run.text("files 1");
      CHECK_THAT(text, Catch::Contains("\nROOT: /    CWD: /\n"));
      CHECK_THAT(text, Catch::Contains("\n FD       FILE            DENTRY           INODE       TYPE PATH\n"));
      CHECK_THAT(text, Catch::Contains(fmt::format("  0 {} {} {} CHR  /dev/console\n",
                                                   by_fd[0]["file"].get<std::string>().substr(2),
                                                   by_fd[0]["dentry"].get<std::string>().substr(2),
                                                   by_fd[0]["inode"].get<std::string>().substr(2))));

      // -d on the console's dentry: the same inode, its path through the
      // devtmpfs mount.
      const nlohmann::json dentry = run.json("files -d " + by_fd[0]["dentry"].get<std::string>());
      CHECK(dentry["inode"] == by_fd[0]["inode"]);
      CHECK(dentry["type"] == "CHR");
      CHECK(dentry["path"] == "/dev/console");
      CHECK(hex_value(dentry["superblk"]) != 0);
    }
  }
}

TEST_CASE("files of a kernel thread and of several tasks", "[files]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  const std::string kthread = run.text("files 2");
  CHECK_THAT(kthread, Catch::Contains("COMMAND: \"kthreadd\"\nROOT: /    CWD: /\nNo open files\n"));
  const nlohmann::json both = run.json("files 1 2");
  REQUIRE(both.is_array());
  CHECK(both[1]["files"].empty());
  // crash: a task named by PID ends with an empty line; the next starts with one.
  CHECK_THAT(run.text("files 1 2"), Catch::Contains("\n\n\nPID: 2 "));
}

TEST_CASE("files rejects bad arguments with one line", "[files][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("files 99999999999999999999"), Catch::Contains("invalid task or pid value"));
  CHECK_THAT(run.failure("files 0xzz"), Catch::Contains("invalid task or pid value"));
  CHECK_THAT(run.failure("files -d"), Catch::Contains("-d needs a dentry address"));
  CHECK_THAT(run.failure("files -d 0x10"), Catch::Contains("dentry 0x10"));
  CHECK_THAT(run.failure("files -x"), Catch::Contains("unknown option"));
}

}  // namespace coroner::test
