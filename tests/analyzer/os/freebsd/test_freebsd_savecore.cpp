// coroner-capture savecore on dump-device images made from the fixtures
// (freebsd_minidump_fixture.hpp): vmcore.N + info.N that coroner opens with
// the answers the device image gives, -k, the next N, -z, the kernel's
// compressed dumps kept as they are, a rescue kernel's /dev/dumper stream,
// and a bad header or a short stream that leave nothing behind.
#include "analyzer/os/os_models.hpp"
#include "capture/format/kerneldump_header.hpp"
#include "tests/analyzer/arch/freebsd_minidump_fixture.hpp"
#include "tests/commands/command_runner.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>

using namespace coroner;
using namespace coroner::test;

namespace {

struct SavecoreRun {
  int status = -1;
  std::string output;  // standard output and error
};

SavecoreRun savecore(const std::string& args) {
  std::string text = run_command(std::string(CORONER_CAPTURE_BINARY) + " savecore " + args + " 2>&1; echo \"exit=$?\"");
  size_t at = text.rfind("exit=");
  return {std::stoi(text.substr(at + 5)), text.substr(0, at)};
}

ProgramOptions options_for(const std::string& path) {
  ProgramOptions options;
  options.dumps = {path};
  options.cache_dir = (cache_dir() / "coroner").string();
  options.os_model = os::open_os_model;
  return options;
}

// What the tests compare between the device and the saved files.
struct Answers {
  nlohmann::json sys, log;
  std::vector<nlohmann::json> reads;
};

Answers answers(const std::string& path, const FixtureMinidump& made) {
  CommandRunner run(options_for(path), path);
  Answers a{run.json("sys"), run.json("log"), {}};
  for (const char* varying : {"dumpfile", "format", "header_source"}) a.sys.erase(varying);
  for (const MinidumpSample& s : made.samples) a.reads.push_back(run.json(fmt::format("rd -8 {:x} {}", s.vaddr, s.length))["bytes"]);
  return a;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// A fresh directory holding a copy of `image` as "device". (Each test case
// writes its images to a directory of its own: ctest runs them in parallel.)
fs::path fresh(const std::string& what, const std::string& image) {
  fs::path dir = cache_dir() / "freebsd-savecore" / what;
  fs::remove_all(dir);
  fs::create_directories(dir / "crash");
  fs::copy_file(image, dir / "device");
  return dir;
}

}  // namespace

TEST_CASE("savecore: a dump-device image becomes vmcore.N and info.N with the same sys, log and rd answers",
          "[commands][freebsd][savecore][fixtures]") {
  setenv("CORONER_CACHE_DIR", (cache_dir() / "open-dump-cache").c_str(), 1);
  for (const char* id : {"x86_64/oops-kdump/d31", "arm64/oops-kdump/d31"}) {
    INFO(id);
    const DumpCase& c = fixture_case(id);
    const FixtureMinidump& made = fixture_minidump(c, 3);
    auto images = write_containers(cache_dir() / "freebsd-savecore" / "images-same-answers" / c.arch_dir,
                                   write_minidump(made.contents), made.contents.header.arch);
    const std::string image = images[6].second;  // device-v4.img
    REQUIRE(images[6].first == "device-v4.img");
    const Answers expected = answers(image, made);

    fs::path dir = fresh(fmt::format("round-trip-{}", c.arch_dir), image);
    const std::string device = (dir / "device").string(), crash = (dir / "crash").string();
    SavecoreRun first = savecore(fmt::format("-k {} {}", device, crash));
    INFO(first.output);
    REQUIRE(first.status == 0);
    CHECK(names_in(crash) == std::vector<std::string>{"bounds", "info.0", "vmcore.0"});
    CHECK(file_contents(fs::path(crash) / "bounds") == "1\n");
    struct stat st {};
    REQUIRE(::stat((fs::path(crash) / "vmcore.0").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(file_contents(fs::path(crash) / "vmcore.0") == write_minidump(made.contents));
    const Answers saved = answers((fs::path(crash) / "vmcore.0").string(), made);
    CHECK(saved.sys == expected.sys);
    CHECK(saved.log == expected.log);
    CHECK(saved.reads == expected.reads);
    // -k kept the trailer: the device still opens, and the next run is N+1, here compressed.
    CHECK(file_contents(device) == file_contents(image));
    SavecoreRun second = savecore(fmt::format("-z {} {}", device, crash));
    INFO(second.output);
    REQUIRE(second.status == 0);
    CHECK(names_in(crash) == std::vector<std::string>{"bounds", "info.0", "info.1", "vmcore.0", "vmcore.1.zst"});
    CHECK(file_contents(fs::path(crash) / "bounds") == "2\n");
    const Answers zstd = answers((fs::path(crash) / "vmcore.1.zst").string(), made);
    CHECK(zstd.sys == expected.sys);
    CHECK(zstd.reads == expected.reads);
    // Without -k the trailer says the dump was saved: neither coroner nor savecore take it again.
    auto reopened = open_dump({device});
    REQUIRE_FALSE(reopened);
    CHECK(reopened.error().message().find("already saved by savecore") != std::string::npos);
    SavecoreRun third = savecore(fmt::format("{} {}", device, crash));
    CHECK(third.status == 1);
    CHECK(third.output.find("already saved by savecore") != std::string::npos);
    CHECK(names_in(crash).size() == 5);
  }
}

TEST_CASE("savecore: the kernel's compressed dumps are kept as they are", "[commands][freebsd][savecore][fixtures]") {
  setenv("CORONER_CACHE_DIR", (cache_dir() / "open-dump-cache").c_str(), 1);
  const DumpCase& c = fixture_case("x86_64/oops-kdump/d31");
  const FixtureMinidump& made = fixture_minidump(c, 3);
  auto images = write_containers(cache_dir() / "freebsd-savecore" / "images-compressed" / c.arch_dir,
                                 write_minidump(made.contents), made.contents.header.arch);
  const Answers expected = answers(images[6].second, made);
  for (auto [index, name] : {std::pair{7, "vmcore.0.zst"}, std::pair{8, "vmcore.0.gz"}}) {
    INFO(images[index].first);
    fs::path dir = fresh(fmt::format("compressed-{}", index), images[index].second);
    SavecoreRun run = savecore(fmt::format("{} {}", (dir / "device").string(), (dir / "crash").string()));
    INFO(run.output);
    REQUIRE(run.status == 0);
    CHECK(names_in(dir / "crash") == std::vector<std::string>{"bounds", "info.0", name});
    const Answers saved = answers((dir / "crash" / name).string(), made);
    CHECK(saved.sys == expected.sys);
    CHECK(saved.reads == expected.reads);
  }
}

TEST_CASE("savecore: a bad header or a short dumper stream leaves nothing behind", "[commands][freebsd][savecore][fixtures]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/d31");
  const FixtureMinidump& made = fixture_minidump(c, 3);
  const std::string minidump = write_minidump(made.contents);
  auto images = write_containers(cache_dir() / "freebsd-savecore" / "images-bad-header" / c.arch_dir, minidump,
                                 made.contents.header.arch);
  // One flipped bit of the trailer's host name: its parity no longer holds.
  fs::path dir = fresh("bad-parity", images[6].second);
  std::string bytes = file_contents(dir / "device");
  bytes[bytes.size() - 512 + 64] ^= 1;
  write_file_contents(dir / "device", bytes);
  SavecoreRun bad = savecore(fmt::format("{} {}", (dir / "device").string(), (dir / "crash").string()));
  CHECK(bad.status == 1);
  CHECK(bad.output.find("parity") != std::string::npos);
  CHECK(names_in(dir / "crash").empty());
  CHECK(file_contents(dir / "device") == bytes);

  // A rescue kernel's /dev/dumper: the minidump alone, whole, then cut short.
  fs::path stream_dir = cache_dir() / "freebsd-savecore" / "dumper";
  fs::remove_all(stream_dir);
  fs::create_directories(stream_dir / "crash");
  write_file_contents(stream_dir / "dumper", minidump);
  SavecoreRun whole = savecore(fmt::format("--from-dumper {} {}", (stream_dir / "dumper").string(),
                                           (stream_dir / "crash").string()));
  INFO(whole.output);
  REQUIRE(whole.status == 0);
  CHECK(file_contents(stream_dir / "crash" / "vmcore.0") == minidump);
  CommandRunner run(options_for((stream_dir / "crash" / "vmcore.0").string()), "dumper vmcore.0");
  CHECK(run.json("sys")["machine"] == "amd64");
  write_file_contents(stream_dir / "dumper", minidump.substr(0, minidump.size() - 100));
  SavecoreRun cut = savecore(fmt::format("--from-dumper {} {}", (stream_dir / "dumper").string(),
                                         (stream_dir / "crash").string()));
  CHECK(cut.status == 1);
  CHECK(cut.output.find("nothing saved") != std::string::npos);
  CHECK(names_in(stream_dir / "crash") == std::vector<std::string>{"bounds", "info.0", "vmcore.0"});
}
