// sys, log, rd, vtop and search on FreeBSD minidumps opened without a
// kernel file, made from the real fixtures (freebsd_minidump_fixture.hpp)
// for both architectures, every minidump version and every container form:
// the answers are facts.json's memory samples, fx_magic and linux_banner,
// the message buffer and the kerneldumpheader the generator wrote.
#include "analyzer/os/os_models.hpp"
#include "commands/command.hpp"
#include "tests/analyzer/arch/freebsd_minidump_fixture.hpp"
#include "tests/analyzer/coroner_run.hpp"
#include "tests/commands/command_runner.hpp"

#include <catch2/catch.hpp>

using namespace coroner;
using namespace coroner::test;

namespace {

ProgramOptions minidump_options(const std::string& path) {
  ProgramOptions options;
  options.dumps = {path};
  options.cache_dir = (cache_dir() / "coroner").string();
  options.os_model = os::open_os_model;
  return options;
}

std::string hex_address(uint64_t value) { return fmt::format("{:#x}", value); }

// Whether the container carries a kerneldumpheader (a device's leader or info.N).
bool has_header(const std::string& name) { return name != "vmcore.2.gz"; }

void check_sys(CommandRunner& run, const std::string& name, const FixtureMinidump& made, const DumpCase& c) {
  nlohmann::json sys = run.json("sys");
  const auto& h = made.contents.header;
  CHECK(sys["os"] == "FreeBSD");
  CHECK(sys["kernel"].is_null());
  CHECK(sys["page_size"] == h.page_size());
  CHECK(sys["page_size"].dump() == c.facts()["vmcoreinfo"]["PAGESIZE"].get<std::string>());
  const bool amd64 = h.arch == freebsd::MinidumpArch::amd64;
  CHECK(sys["machine"] == (amd64 ? "amd64" : "aarch64"));
  if (h.has_dump_avail()) {
    uint64_t memory = 0;
    for (auto [start, end] : made.contents.dump_avail) memory += end - start;
    CHECK(sys["memory_bytes"] == memory);
  } else {
    CHECK(sys["memory_bytes"].is_null());
  }
  CHECK(sys["dumped_bytes"] == made.contents.pages.size() * h.page_size());
  if (!has_header(name)) {
    CHECK(sys["nodename"] == "");
    CHECK(sys["panic"].is_null());
    CHECK_FALSE(sys["problems"].empty());
    return;
  }
  const freebsd::KernelDumpHeader expected = test_dump_header(h.arch, 4);
  CHECK(sys["nodename"] == expected.hostname);
  CHECK(sys["version"] == expected.version_string);
  CHECK(sys["release"] == "15.0-CURRENT");
  CHECK(sys["panic"] == expected.panic_string);
  CHECK(sys["dump_time"] == expected.dump_time);
  CHECK(sys["problems"].empty() == h.has_dump_avail());
  // The text form names the same.
  std::string text = run.text("sys");
  CHECK(text.find("    NODENAME: crashbox\n") != std::string::npos);
  CHECK(text.find("       PANIC: \"page fault while in kernel mode\"\n") != std::string::npos);
  CHECK(text.find(fmt::format("   PAGE SIZE: {}\n", h.page_size())) != std::string::npos);
}

void check_log(CommandRunner& run, const FixtureMinidump& made) {
  // The generator wrote "<6>..." lines past the ring's end: it wrapped.
  const std::vector<std::string> written = lines_of(made.log_text);
  nlohmann::json log = run.json("log");
  const auto& lines = log["lines"];
  REQUIRE(lines.size() > 2);
  CHECK(lines.size() < written.size());
  CHECK(lines.back() == written.back().substr(3));
  // The first line is cut by the wrap; the second is whole.
  CHECK(lines[1] == written[written.size() - lines.size() + 1].substr(3));
  CHECK(written[written.size() - lines.size()].ends_with(lines[0].get<std::string>()));
  std::string text = run.text("log");
  CHECK(text.ends_with(written.back().substr(3) + "\n"));
}

void check_memory(CommandRunner& run, const FixtureMinidump& made, uint64_t page) {
  for (const MinidumpSample& s : made.samples) {
    INFO(s.what << " at " << hex_address(s.vaddr));
    nlohmann::json rd = run.json(fmt::format("rd -8 {:x} {}", s.vaddr, s.length));
    std::vector<uint8_t> bytes = bytes_of(rd);
    CHECK(sha256_hex(bytes.data(), bytes.size()) == s.sha256);
    nlohmann::json vtop = run.json(fmt::format("vtop {:x}", s.vaddr));
    CHECK(vtop["paddr"] == hex_address(s.paddr));
    if (s.paddr % page + s.length <= page) {
      nlohmann::json physical = run.json(fmt::format("rd -p -8 {:x} {}", s.paddr, s.length));
      CHECK(bytes_of(physical) == bytes);
    }
  }
  // A page left out of the bitmap, and (with dump_avail) an address in its hole.
  std::string skipped = run.failure(fmt::format("rd -p {:x}", made.not_dumped));
  CHECK(skipped.find(hex_address(made.not_dumped)) != std::string::npos);
  CHECK(skipped.find("not in the minidump") != std::string::npos);
  if (made.contents.header.has_dump_avail()) {
    std::string hole = run.failure(fmt::format("rd -p {:x}", made.hole));
    CHECK(hole.find(hex_address(made.hole)) != std::string::npos);
    CHECK(hole.find("in no dump_avail range") != std::string::npos);
    // The same through the direct map: the error names the physical address.
    const auto& h = made.contents.header;
    std::string mapped = run.failure(fmt::format("rd {:x}", h.dmap_base + made.hole - h.dmap_phys));
    CHECK(mapped.find(hex_address(made.hole)) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("FreeBSD minidumps without a kernel file: sys, log, rd and vtop in every container form",
          "[commands][freebsd][fixtures]") {
  setenv("CORONER_CACHE_DIR", (cache_dir() / "open-dump-cache").c_str(), 1);
  for (const MinidumpVariant& v : minidump_variants()) {
    const DumpCase& c = fixture_case(v.fixture);
    const FixtureMinidump& made = fixture_minidump(c, v.version);
    const std::string minidump = write_minidump(made.contents);
    fs::path dir = cache_dir() / "freebsd-commands" / fmt::format("{}-v{}", c.arch_dir, v.version);
    for (const auto& [name, path] : write_containers(dir, minidump, made.contents.header.arch)) {
      INFO(c.id << " as minidump v" << v.version << ", " << name);
      CommandRunner run(minidump_options(path), path);
      check_sys(run, name, made, c);
      check_log(run, made);
      check_memory(run, made, made.contents.header.page_size());
    }
  }
}

TEST_CASE("FreeBSD minidumps without a kernel file: search finds fx_magic and Linux commands say why they cannot run",
          "[commands][freebsd][fixtures]") {
  for (const char* id : {"x86_64/oops-kdump/d31", "arm64/oops-kdump/d31"}) {
    const DumpCase& c = fixture_case(id);
    const FixtureMinidump& made = fixture_minidump(c, 3);
    fs::path path = cache_dir() / "freebsd-commands" / fmt::format("search-{}", c.arch_dir) / "vmcore.0";
    fs::create_directories(path.parent_path());
    write_file_contents(path, write_minidump(made.contents));
    INFO(id);
    CommandRunner run(minidump_options(path.string()), path.string());
    const uint64_t magic = hex_value(c.facts()["values"]["fx_magic"]);
    const uint64_t where = hex_value(c.facts()["symbols"]["fx_magic"]);
    nlohmann::json found = run.json(fmt::format("search {:x}", magic));
    bool at_symbol = false;
    for (const auto& match : found["matches"]) at_symbol |= match["address"] == hex_address(where);
    CHECK(at_symbol);
    nlohmann::json physical = run.json(fmt::format("search -p {:x}", magic));
    CHECK_FALSE(physical["matches"].empty());
    for (const char* command : {"ps", "bt", "p jiffies", "mod", "kmem -i"}) {
      std::string word = std::string(command).substr(0, std::string(command).find(' '));
      CHECK(run.failure(command) == word + ": not available for a FreeBSD dump without a kernel file");
    }
    CHECK(run.failure("rd jiffies").find("unknown symbol: jiffies") != std::string::npos);
    CHECK(run.failure("sys -c").find("without a kernel file") != std::string::npos);
  }
}

TEST_CASE("coroner opens a FreeBSD dump-device image alone: sys, log and rd as JSON Lines", "[commands][freebsd][fixtures]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/d31");
  const FixtureMinidump& made = fixture_minidump(c, 3);
  fs::path dir = cache_dir() / "freebsd-commands" / "executable";
  auto containers = write_containers(dir, write_minidump(made.contents), made.contents.header.arch);
  const std::string device = containers[3].second;  // device-v1.img
  const uint64_t banner = hex_value(c.facts()["symbols"]["linux_banner"]);
  const std::string text = c.facts()["values"]["linux_banner"].get<std::string>();
  Run run = run_coroner(
      fmt::format("-s --output json -x sys -x log -x 'rd -a {:x} {}' -x ps {}", banner, text.size(), device), "");
  INFO(run.err);
  CHECK(run.status == 1);  // ps fails
  CHECK(run.err == "ps: not available for a FreeBSD dump without a kernel file\n");
  std::vector<std::string> documents = lines_of(run.out);
  REQUIRE(documents.size() == 3);
  CHECK(nlohmann::json::parse(documents[0])["nodename"] == "crashbox");
  CHECK(nlohmann::json::parse(documents[1])["lines"].back() == lines_of(made.log_text).back().substr(3));
  CHECK(nlohmann::json::parse(documents[2])["string"] == text);
  // triage reads Linux kernels only, and says so.
  Run triage = run_coroner("triage " + device, "");
  CHECK(triage.status != 0);
  CHECK(triage.err.find("a FreeBSD minidump: triage reads Linux kernels only") != std::string::npos);
}
