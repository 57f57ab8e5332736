// coroner-capture never leaves a dump that claims to be complete when it is
// not: a full disk, SIGTERM or SIGKILL in the middle of a write and a truncated input
// each end with a non-zero exit, a one-line message naming the file, and
// (where anything was written) a dump our reader reports as incomplete.
// Input pages that fail to read (EIO) are left out and the exit says so.
#include "tests/capture/test_capture_support.hpp"

#include <catch2/catch.hpp>
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

using namespace coroner;
using namespace coroner::test;

TEST_CASE("a full disk (/dev/full) fails with the file, offset and reason", "[capture][faults]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  for (std::string format : {"-l", "-E"}) {
    auto result = run_shell(fmt::format("{} {} -d 31 {} /dev/full", capture_executable(), format, c.files().front()));
    INFO(result.output);
    CHECK(result.status == 1);
    CHECK(result.output.find("/dev/full") != std::string::npos);
    CHECK(result.output.find("No space left on device") != std::string::npos);
    CHECK(result.output.find("offset 0x") != std::string::npos);
    CHECK(result.output.find("incomplete") != std::string::npos);
  }
}

namespace {

// Starts a slow capture (zlib at -d 0, one thread: several seconds), sends
// `signal` once some pages are out, and returns the wait status; the
// output is `out`, its stderr `log`.
int interrupted_capture(const std::string& vmcore, const fs::path& out, const fs::path& log, int signal) {
  std::vector<std::string> args = {capture_executable(), "-c", "-d", "0", vmcore, out.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  // Stop it once some pages are out, well before the end (about 90 MB).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto written = [&] {
    std::error_code ec;
    auto size = fs::file_size(out, ec);
    return ec ? 0 : size;
  };
  while (std::chrono::steady_clock::now() < deadline && written() < 4 * 1024 * 1024)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ::kill(pid, signal);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return status;
}

// The dump says it is incomplete; what was written reads back right, and
// pages never written are errors, not zeros.
void check_incomplete_dump(const fs::path& out, const std::string& vmcore) {
  auto dump = open_or_fail({out.string()});
  CHECK(dump->incomplete());
  auto input = open_or_fail({vmcore});
  std::vector<std::byte> a(dump->page_size()), b(dump->page_size());
  uint64_t good = 0, missing = 0, wrong = 0;
  for (const PhysRange& r : dump->ranges())
    for (uint64_t paddr = r.start; paddr + a.size() <= r.end(); paddr += a.size()) {
      if (!dump->read(paddr, b)) {
        ++missing;
        continue;
      }
      REQUIRE(input->read(paddr, a));
      (a == b ? good : wrong) += 1;
    }
  CHECK(good > 0);
  CHECK(missing > 0);
  CHECK(wrong == 0);
}

}  // namespace

TEST_CASE("SIGTERM mid-write leaves a dump marked incomplete", "[capture][faults][signal]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  fs::path dir = capture_scratch("sigterm");
  fs::path out = dir / "dump", log = dir / "stderr";
  const int status = interrupted_capture(c.files().front(), out, log, SIGTERM);
  std::string message = file_contents(log);
  INFO(message);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 128 + SIGTERM);
  CHECK(message.find("interrupted by SIGTERM") != std::string::npos);
  CHECK(message.find(out.string()) != std::string::npos);
  check_incomplete_dump(out, c.files().front());
}

// SIGKILL gives the writer no last word: only the header, written marked
// incomplete before any page and cleared after the last, can tell.
TEST_CASE("SIGKILL mid-write leaves a dump marked incomplete", "[capture][faults][signal]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  fs::path dir = capture_scratch("sigkill");
  fs::path out = dir / "dump", log = dir / "stderr";
  const int status = interrupted_capture(c.files().front(), out, log, SIGKILL);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  check_incomplete_dump(out, c.files().front());
}

TEST_CASE("a truncated input vmcore is a clear error", "[capture][faults]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  fs::path dir = capture_scratch("truncated");
  std::string vmcore = c.files().front();
  for (uint64_t size : {uint64_t{40}, uint64_t{3000}, uint64_t{200} << 20}) {
    fs::path cut = dir / fmt::format("vmcore-{}", size), out = dir / fmt::format("dump-{}", size);
    {
      std::ifstream in(vmcore, std::ios::binary);
      std::ofstream copy(cut, std::ios::binary);
      std::vector<char> buf(1 << 20);
      uint64_t left = size;
      while (left > 0 && in.read(buf.data(), std::min<uint64_t>(left, buf.size()))) {
        copy.write(buf.data(), in.gcount());
        left -= in.gcount();
      }
    }
    REQUIRE(fs::file_size(cut) == size);
    auto result = run_shell(fmt::format("{} -l -d 31 {} {}", capture_executable(), cut.string(), out.string()));
    INFO(size << ": " << result.output);
    CHECK(result.status == 1);
    CHECK(result.output.find(cut.string()) != std::string::npos);
    CHECK(std::count(result.output.begin(), result.output.end(), '\n') == 1);
    if (fs::exists(out)) CHECK(open_or_fail({out.string()})->incomplete());
    fs::remove(cut);
  }
}

namespace {

// The file offset and physical address of the first PT_LOAD of an ELF vmcore.
std::pair<uint64_t, uint64_t> first_load(const std::string& vmcore) {
  std::ifstream in(vmcore, std::ios::binary);
  Elf64_Ehdr ehdr{};
  in.read(reinterpret_cast<char*>(&ehdr), sizeof ehdr);
  for (unsigned i = 0; i < ehdr.e_phnum; ++i) {
    Elf64_Phdr phdr{};
    in.seekg(static_cast<std::streamoff>(ehdr.e_phoff + i * sizeof phdr));
    in.read(reinterpret_cast<char*>(&phdr), sizeof phdr);
    if (phdr.p_type == PT_LOAD) return {phdr.p_offset, phdr.p_paddr};
  }
  FAIL("no PT_LOAD in " << vmcore);
  return {};
}

}  // namespace

TEST_CASE("input pages that fail with EIO are left out of the dump and the exit says so", "[capture][faults][eio]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  const std::string vmcore = fs::canonical(c.files().front()).string();
  // Four pages 1 MiB into the first PT_LOAD, the kernel image: kept at -d 31,
  // and not needed to filter (no page table, no struct page).
  auto [offset, paddr] = first_load(vmcore);
  const uint64_t bad = paddr + 0x100000, bad_pages = 4, page = 4096;
  const std::string shim = fmt::format("CORONER_EIO_FILE={} CORONER_EIO_OFFSET={} CORONER_EIO_LENGTH={} LD_PRELOAD={}",
                                       vmcore, offset + 0x100000, bad_pages * page, CORONER_EIO_SHIM);
  auto original = open_or_fail({vmcore});
  fs::path dir = capture_scratch("eio");
  // -l: a kdump file; -E -d 31: an ELF without zero pages (they are left out
  // of its PT_LOADs); -E -d 30: an ELF with every page, where they are zeros.
  struct Form {
    std::string options;
    bool left_out;
  };
  for (const Form& form : {Form{"-l -d 31", true}, Form{"-E -d 31", true}, Form{"-E -d 30", false}}) {
    fs::path out = dir / "dump";
    fs::remove(out);
    auto result = run_shell(fmt::format("{} {} {} {} {}", shim, capture_executable(), form.options, vmcore, out.string()));
    INFO(form.options << ": " << result.output);
    CHECK(result.status == 3);
    CHECK(result.output.find(fmt::format("{}: 4 pages could not be read (I/O error), the first at physical address {:#x}",
                                         vmcore, bad)) != std::string::npos);
    CHECK(result.output.find(form.left_out ? "4 left out of the dump" : "4 written as zeros") != std::string::npos);
    // Written in windows (8192 pages), the same bytes.
    fs::path windowed = dir / "windowed";
    fs::remove(windowed);
    CHECK(run_shell(fmt::format("{} {} --cyclic-buffer 1 {} {} {}", shim, capture_executable(), form.options, vmcore,
                                windowed.string()))
              .status == 3);
    CHECK(byte_difference(windowed, out) == "");
    auto dump = open_or_fail({out.string()});
    CHECK_FALSE(dump->incomplete());
    std::vector<std::byte> got(page), want(page);
    for (uint64_t i = 0; i < bad_pages; ++i) {
      auto read = dump->read(bad + i * page, got);
      if (form.left_out) {
        REQUIRE_FALSE(read);
        CHECK((read.error().code() == Errc::excluded_by_filter || read.error().code() == Errc::not_in_dump));
      } else {
        REQUIRE(read);
        CHECK(std::all_of(got.begin(), got.end(), [](std::byte b) { return b == std::byte{0}; }));
      }
    }
    // The pages around them are whole.
    for (uint64_t at : {bad - page, bad + bad_pages * page}) {
      REQUIRE(dump->read(at, got));
      REQUIRE(original->read(at, want));
      CHECK(got == want);
    }
  }
  // --split: a part written after the one that met them leaves them out of
  // its 2nd bitmap too, as in one window, so each part is the same bytes.
  // Eight parts: the part that meets them is not the last.
  std::vector<std::string> one, many;
  for (int part = 0; part < 8; ++part) {
    one.push_back((dir / fmt::format("split-one-{}", part)).string());
    many.push_back((dir / fmt::format("split-many-{}", part)).string());
    fs::remove(one.back());
    fs::remove(many.back());
  }
  CHECK(run_shell(fmt::format("{} {} --non-cyclic --split -l -d 31 {} {}", shim, capture_executable(), vmcore,
                              fmt::join(one, " ")))
            .status == 3);
  CHECK(run_shell(fmt::format("{} {} --cyclic-buffer 1 --split -l -d 31 {} {}", shim, capture_executable(), vmcore,
                              fmt::join(many, " ")))
            .status == 3);
  for (size_t part = 0; part < one.size(); ++part) {
    INFO("part " << part);
    CHECK(byte_difference(many[part], one[part]) == "");
  }
  auto parts = open_or_fail(one);
  std::vector<std::byte> got(page);
  for (uint64_t i = 0; i < bad_pages; ++i) CHECK_FALSE(parts->read(bad + i * page, got));
}

TEST_CASE("the command line: usage errors exit 1 as makedumpfile's and --help and --version exit 0", "[capture][faults][options]") {
  auto bad = run_shell(capture_executable() + " -c -l in out");
  CHECK(bad.status == 1);
  CHECK(bad.output == "coroner-capture: -l: only one of -c, -l, -p and -z may be given\n"
                      "Try 'coroner-capture --help' for more information.\n");
  CHECK(run_shell(capture_executable()).status == 1);
  auto help = run_shell(capture_executable() + " --help");
  CHECK(help.status == 0);
  CHECK(help.output.find("--num-threads") != std::string::npos);
  auto version = run_shell(capture_executable() + " --version");
  CHECK(version.status == 0);
  CHECK(version.output.find("coroner-capture ") == 0);
  auto missing = run_shell(capture_executable() + " -l /nonexistent/vmcore /tmp/never-written");
  CHECK(missing.status == 1);
  CHECK(missing.output.find("/nonexistent/vmcore") != std::string::npos);
  CHECK_FALSE(fs::exists("/tmp/never-written"));
}
