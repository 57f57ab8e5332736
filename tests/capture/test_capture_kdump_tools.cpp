// coroner-capture in makedumpfile's place under Debian's kdump-tools: the
// save path of the package's kdump-config (kdump_save_core, run by
// kdump_tools_save.sh with a PATH shim named makedumpfile) writes the same
// files as with makedumpfile itself: the --dump-dmesg text byte for byte,
// and a flattened dump (-F -c -d 31) that -R (ours and makedumpfile's)
// turns into makedumpfile's dump byte for byte, which coroner and crash
// 8.0.2 read.
#include "tests/capture/test_capture_support.hpp"

#include <catch2/catch.hpp>

using namespace coroner;
using namespace coroner::test;

namespace {

// kdump-config of Debian's kdump-tools package (apt-get download, once per
// build tree); nullopt, said loudly, when the package cannot be fetched
// (no network and no apt lists): then the test has nothing to run.
std::optional<fs::path> kdump_config() {
  fs::path dir = cache_dir() / "kdump-tools";
  fs::create_directories(dir);
  if (!fs::exists(dir / "kdump-config")) {
    CommandResult fetched =
        run_shell(fmt::format("cd {} && rm -f kdump-tools_*.deb && apt-get download kdump-tools", dir.string()));
    if (fetched.status != 0) {
      WARN("SKIPPED: apt-get download kdump-tools failed: " << fetched.output);
      return std::nullopt;
    }
  }
  return cached_file(dir / "kdump-config", [&](const std::string& temporary) {
    fs::path unpacked = dir / fmt::format("unpacked.{}", getpid());
    run_command(fmt::format("dpkg-deb -x {}/kdump-tools_*.deb {} && cp {}/usr/sbin/kdump-config {}", dir.string(),
                            unpacked.string(), unpacked.string(), temporary));
    fs::remove_all(unpacked);
  });
}

struct SavedCore {
  std::string dump;   // the flattened dump kdump-config saved
  std::string dmesg;  // the kernel log text
  std::string transcript;
};

// kdump_save_core with `tool` as makedumpfile, into a fresh COREDIR.
SavedCore save_core(const fs::path& config, const std::string& tool, const std::string& vmcore,
                    const fs::path& coredir) {
  fs::create_directories(coredir);
  fs::path script = fs::path(CORONER_SOURCE_DIR) / "tests/capture/kdump_tools_save.sh";
  CommandResult result = run_shell(fmt::format("sh {} {} {} {} {}", script.string(), config.string(), tool,
                                               vmcore, coredir.string()));
  INFO(result.output);
  REQUIRE(result.status == 0);
  SavedCore saved{{}, {}, result.output};
  for (const auto& stamp : fs::directory_iterator(coredir)) {
    if (!stamp.is_directory() || stamp.path().filename() == ".bin") continue;
    for (const auto& file : fs::directory_iterator(stamp.path())) {
      std::string name = file.path().filename().string();
      if (name.starts_with("dump.")) saved.dump = file.path().string();
      if (name.starts_with("dmesg.")) saved.dmesg = file.path().string();
    }
  }
  REQUIRE(!saved.dump.empty());
  REQUIRE(!saved.dmesg.empty());
  return saved;
}

}  // namespace

TEST_CASE("kdump-tools saves the same dump and dmesg with coroner-capture as makedumpfile", "[capture][fixtures][kdump-tools]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  std::optional<fs::path> config = kdump_config();
  if (!config) return;
  fs::path dir = capture_scratch("kdump-tools");
  SavedCore ours = save_core(*config, capture_executable(), c.files().front(), dir / "ours");
  SavedCore theirs = save_core(*config, "/usr/bin/makedumpfile", c.files().front(), dir / "makedumpfile");
  // The package's own lines ran: the defaults and the pipe through compress.
  CHECK_THAT(ours.transcript, Catch::Contains("MAKEDUMP_ARGS=-F -c -d 31"));
  CHECK_THAT(ours.transcript, Catch::Contains("running makedumpfile --dump-dmesg " + c.files().front()));
  CHECK_THAT(ours.transcript, Catch::Contains("success: kdump-config: saved vmcore in"));
  CHECK_THAT(ours.transcript, !Catch::Contains("falling back to 'cp'"));

  CHECK(file_contents(ours.dmesg) == file_contents(theirs.dmesg));
  const std::string oops = c.facts().at("oops_message");
  CHECK_THAT(file_contents(ours.dmesg), Catch::Contains("] " + oops + "\n"));

  // -R of ours by coroner-capture and by makedumpfile, and makedumpfile -R
  // of makedumpfile's stream: one file.
  std::string by_us = (dir / "ours-R").string(), by_makedumpfile = (dir / "ours-makedumpfile-R").string(),
              reference = (dir / "makedumpfile-R").string();
  CHECK(run_shell(fmt::format("{} -R {} < {}", capture_executable(), by_us, ours.dump)).status == 0);
  run_command(fmt::format("makedumpfile -R {} < {}", by_makedumpfile, ours.dump));
  run_command(fmt::format("makedumpfile -R {} < {}", reference, theirs.dump));
  CHECK(file_contents(by_us) == file_contents(by_makedumpfile));
  CHECK(file_contents(by_us) == file_contents(reference));

  auto dump = open_or_fail({by_us});
  CHECK(dump->dump_level() == 31);
  check_memory_samples(*dump, c);
  // crash 8.0.2's `log` of it is the saved dmesg text.
  CommandResult crash = run_shell(fmt::format("printf 'log\\nquit\\n' | crash -s {} {}", c.vmlinux(), by_us));
  INFO(crash.output.substr(0, 2000));
  REQUIRE(crash.status == 0);
  CHECK(crash.output.ends_with(file_contents(ours.dmesg)));
}
