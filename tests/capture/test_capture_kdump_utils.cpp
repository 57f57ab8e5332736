// coroner-capture in makedumpfile's place under Fedora's kdump-utils: every
// makedumpfile command line its scripts run (tests/capture/kdump_utils_lines.txt,
// written out from kdump-utils' mkdumprd, kdump.sh and kdumpctl with their
// commit) is run with coroner-capture and with makedumpfile 1.7.2 on the
// x86_64 fixture: --check-params' exit status, the dump file byte for byte,
// and the raw-target path (-F through dd onto a stale device image, -R back
// at the next boot, -R refused once the header is wiped) byte for byte.
#include "tests/capture/test_capture_support.hpp"

#include <catch2/catch.hpp>

using namespace coroner;
using namespace coroner::test;

namespace {

struct CollectorLine {
  std::string kind, where, arguments;
};

std::vector<CollectorLine> collector_lines() {
  std::vector<CollectorLine> lines;
  std::string text = file_contents(fs::path(CORONER_SOURCE_DIR) / "tests/capture/kdump_utils_lines.txt");
  for (const std::string& line : lines_of(text)) {
    if (line.empty() || line.starts_with("#")) continue;
    size_t first = line.find(" | "), second = line.find(" | ", first + 3);
    REQUIRE(second != std::string::npos);
    lines.push_back({line.substr(0, first), line.substr(first + 3, second - first - 3), line.substr(second + 3)});
  }
  return lines;
}

std::string substitute(std::string arguments, const std::string& vmcore, const std::string& dumpfile) {
  for (auto [name, value] : {std::pair<std::string, std::string>{"VMCORE", vmcore}, {"DUMPFILE", dumpfile}})
    if (size_t at = arguments.find(name); at != std::string::npos) arguments.replace(at, name.size(), value);
  return arguments;
}

// A raw dump target that held something else before: 32 MiB of 'Z'.
void make_stale_device(const fs::path& device) {
  run_command(fmt::format("head -c 33554432 /dev/zero | tr '\\0' Z > {}", device.string()));
}

// kdump.sh's dump_raw: the collector's standard output through dd onto the
// device. Returns the collector's exit status.
int dump_raw(const std::string& tool, const std::string& arguments, const fs::path& device) {
  fs::path status = device.string() + ".status";
  // The collector's messages go to the console in kdump.sh: here, to a file.
  CommandResult piped = run_shell(fmt::format("{{ {} {} 2>{}.console; echo $? > {}; }} | dd of={} bs=512 conv=notrunc 2>/dev/null",
                                              tool, arguments, device.string(), status.string(), device.string()));
  INFO(piped.output);
  REQUIRE(piped.status == 0);
  return std::stoi(file_contents(status));
}

// kdumpctl's save_raw: -R from the device into `dumpfile`.
int save_raw(const std::string& tool, const fs::path& device, const fs::path& dumpfile) {
  return run_shell(fmt::format("{} -R {} < {}", tool, dumpfile.string(), device.string())).status;
}

// Debian's makedumpfile 1.7.2 with --num-threads aborts now and then
// (SIGABRT, status 134, seen under the sanitizer suite's load): the
// reference is its output, so a run it did not finish is made again, from
// a clean slate (it refuses to overwrite its dump file).
int run_makedumpfile(const std::string& makedumpfile, const std::string& arguments, const fs::path& output) {
  int status = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    fs::remove(output);
    status = run_shell(makedumpfile + " " + arguments).status;
    if (status < 128) break;
  }
  return status;
}

}  // namespace

TEST_CASE("kdump-utils core_collector lines give makedumpfile's results with coroner-capture", "[capture][fixtures][kdump-utils]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  const std::string vmcore = c.files().front();
  const std::string ours = capture_executable(), theirs = "/usr/bin/makedumpfile";
  fs::path dir = capture_scratch("kdump-utils");
  std::vector<CollectorLine> lines = collector_lines();
  REQUIRE(lines.size() >= 6);
  int index = 0;
  for (const CollectorLine& line : lines) {
    INFO(line.where << ": " << line.arguments);
    ++index;
    fs::path our_file = dir / fmt::format("ours-{}", index), their_file = dir / fmt::format("makedumpfile-{}", index);
    std::string our_arguments = substitute(line.arguments, vmcore, our_file.string());
    std::string their_arguments = substitute(line.arguments, vmcore, their_file.string());
    if (line.kind == "check") {
      CommandResult checked = run_shell(ours + " " + our_arguments);
      CHECK(checked.status == 0);
      CHECK(checked.output.empty());
      CHECK(run_shell(theirs + " " + their_arguments).status == 0);
      CHECK_FALSE(fs::exists(our_file));
    } else if (line.kind == "file") {
      CommandResult ran = run_shell(ours + " " + our_arguments);
      INFO(ran.output);
      REQUIRE(ran.status == 0);
      REQUIRE(run_makedumpfile(theirs, their_arguments, their_file) == 0);
      CHECK(file_contents(our_file) == file_contents(their_file));
      auto dump = open_or_fail({our_file.string()});
      CHECK(dump->dump_level() == 31);
    } else if (line.kind == "raw") {
      fs::path our_device = dir / fmt::format("ours-{}.device", index);
      fs::path their_device = dir / fmt::format("makedumpfile-{}.device", index);
      make_stale_device(our_device);
      make_stale_device(their_device);
      REQUIRE(dump_raw(ours, our_arguments, our_device) == 0);
      REQUIRE(dump_raw(theirs, their_arguments, their_device) == 0);
      // The next boot's save_raw, by either tool, from either device: one file.
      CHECK(save_raw(ours, our_device, our_file) == 0);
      CHECK(save_raw(theirs, our_device, dir / "ours-by-makedumpfile") == 0);
      CHECK(save_raw(ours, their_device, dir / "makedumpfile-by-ours") == 0);
      CHECK(save_raw(theirs, their_device, their_file) == 0);
      std::string reference = file_contents(their_file);
      CHECK(file_contents(our_file) == reference);
      CHECK(file_contents(dir / "ours-by-makedumpfile") == reference);
      CHECK(file_contents(dir / "makedumpfile-by-ours") == reference);
      check_memory_samples(*open_or_fail({our_file.string()}), c);
      // Header wiped (dd bs=1b count=1): no dump there any more.
      run_command(fmt::format("dd if=/dev/zero of={} bs=1b count=1 conv=notrunc 2>/dev/null", our_device.string()));
      CHECK(save_raw(ours, our_device, dir / "wiped-ours") != 0);
      CHECK(save_raw(theirs, our_device, dir / "wiped-makedumpfile") != 0);
    } else {
      FAIL("unknown kind '" << line.kind << "' in kdump_utils_lines.txt");
    }
  }
}

TEST_CASE("makedumpfile --check-params says whether makedumpfile would run a command line and does nothing", "[capture][makedumpfile]") {
  for (std::string arguments : {"-l -d 31 vmcore", "-E -l -d 31 vmcore out", "-F vmcore out", "--bogus vmcore out",
                                "-d 32 vmcore out"}) {
    INFO(arguments);
    CommandResult ours = run_shell(capture_executable() + " --check-params " + arguments);
    CHECK(ours.status == 1);
    CHECK(lines_of(ours.output).size() == 2);  // the reason and "Try ... --help"
    CHECK(run_shell("makedumpfile --check-params " + arguments).status == 1);
  }
  // Valid lines, with files that do not exist: nothing is opened.
  for (std::string arguments : {"-c -d 31 /nonexistent/vmcore /nonexistent/dump", "-R /nonexistent/dump",
                                "--reassemble a b out", "--dump-dmesg /nonexistent/vmcore log"}) {
    INFO(arguments);
    CHECK(run_shell(capture_executable() + " --check-params " + arguments).status == 0);
    CHECK(run_shell("makedumpfile --check-params " + arguments).status == 0);
  }
}
