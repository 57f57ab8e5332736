// mount on every fixture dump: the root file system the console booted
// with (the initramfs unpacked into rootfs) at "/", devtmpfs at /dev, proc
// and sysfs as the fixtures' init mounts them; the text
// next to crash 8.0.2's on the x86_64 dumps; a task's namespace; errors.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"
#include "tests/commands/guest_console.hpp"

#include <map>

namespace coroner::test {

TEST_CASE("mount lists the root file system and /dev on every dump", "[mount][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json mounts = run.json("mount");
      std::map<std::string, nlohmann::json> by_dir;
      for (const auto& m : mounts["mounts"]) {
        CHECK_FALSE(m.contains("error"));
        by_dir[m["dirname"].get<std::string>()] = m;
      }
      // The console says what "/" is: a disk ("VFS: Mounted root (ext4
      // filesystem)") or the initramfs unpacked into rootfs.
      auto disk = console_capture(dump, std::regex(R"(VFS: Mounted root \((\S+) filesystem\))"));
      auto initramfs = console_capture(dump, std::regex(R"((Unpacking initramfs))"));
      REQUIRE((disk || initramfs));
      REQUIRE(by_dir.count("/"));
      CHECK(by_dir["/"]["type"] == (disk ? *disk : "rootfs"));
      CHECK(mounts["mounts"][0]["dirname"] == "/");
      // The fixtures' init mounts these.
      REQUIRE(by_dir.count("/dev"));
      CHECK(by_dir["/dev"]["type"] == "devtmpfs");
      CHECK(by_dir["/proc"]["type"] == "proc");
      CHECK(by_dir["/sys"]["type"] == "sysfs");
      const nlohmann::json files = run.json("files 1");
      const nlohmann::json console = run.json("files -d " + files["files"][0]["dentry"].get<std::string>());
      // init opened /dev/console of the initramfs (before devtmpfs covered
      // it), or of devtmpfs: a super_block of a listed mount either way.
      CHECK((console["superblk"] == by_dir["/"]["superblk"] || console["superblk"] == by_dir["/dev"]["superblk"]));

      const std::string text = run.text("mount");
      CHECK_THAT(text, Catch::StartsWith("     MOUNT           SUPERBLK     TYPE   DEVNAME   DIRNAME\n"));
      CHECK_THAT(text, Catch::Contains(fmt::format("{} {} devtmpfs dev     /dev      \n",
                                                   by_dir["/dev"]["mount"].get<std::string>().substr(2),
                                                   by_dir["/dev"]["superblk"].get<std::string>().substr(2))));
      // PID 1's namespace is the initial one here; -n names it by task too.
      CHECK(run.json("mount -n 1") == mounts);
      // One mount by its directory, device name or address.
      for (const std::string word : {std::string("/dev"), std::string("dev"), by_dir["/dev"]["mount"].get<std::string>(),
                                     by_dir["/dev"]["superblk"].get<std::string>()}) {
        const nlohmann::json one = run.json("mount " + word);
        REQUIRE(one["mounts"].size() == 1);
        CHECK(one["mounts"][0] == by_dir["/dev"]);
      }
    }
  }
}

TEST_CASE("mount rejects bad arguments with one line", "[mount][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("mount -n 99999"), Catch::Contains("invalid task or pid value: 99999"));
  CHECK_THAT(run.failure("mount -n"), Catch::Contains("-n needs a PID"));
  CHECK_THAT(run.failure("mount -f"), Catch::Contains("super_block.s_files linked list does not exist"));
  CHECK_THAT(run.failure("mount -i"), Catch::Contains("super_block.s_dirty linked list does not exist"));
  CHECK_THAT(run.failure("mount -x"), Catch::Contains("unknown option -x"));
  CHECK_THAT(run.failure("mount /nowhere"), Catch::Contains("no mount matches /nowhere"));
}

// crash 8.0.2's mount with a filter argument forces its -f, which 6.1
// cannot do (docs/crash-differences.md): only the full listings compare.
TEST_CASE("mount prints what crash 8.0.2 prints on the x86_64 dumps", "[mount][crash]") {
  if (!crash_installed()) return;
  for (const std::string id : {"x86_64/oops-kdump/d31", "x86_64/panic-qemu/kdump-zlib", "x86_64/oops-kdump-la57/d31"}) {
    SECTION(id) {
      const DumpCase& dump = fixture_case(id);
      const std::vector<std::string> commands = {"mount", "mount -n 1"};
      CommandRunner run(dump);
      check_same_as_crash(run, dump, commands);
    }
  }
}

}  // namespace coroner::test
