// The coroner program as users run it: batch commands on standard input,
// JSON output, the bundled sample, exit codes and one-line errors.
#include "symbols/cache_file.hpp"
#include "symbols/elf_symbols.hpp"
#include "tests/analyzer/coroner_run.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace coroner::test {

namespace {

// How many files in dir end with suffix.
size_t files_ending(const fs::path& dir, const std::string& suffix) {
  size_t count = 0;
  if (fs::exists(dir))
    for (const auto& entry : fs::directory_iterator(dir)) count += entry.path().string().ends_with(suffix);
  return count;
}

}  // namespace

TEST_CASE("coroner -s reads commands from standard input like crash -s", "[main]") {
  const DumpCase& d31 = fixture_case("x86_64/oops-kdump/d31");
  std::string args = "-s " + d31.vmlinux() + " " + d31.files().front();
  Run run = run_coroner(args, "sys\nsym panic\n");
  CHECK(run.status == 0);
  CHECK_THAT(run.out, Catch::Contains("RELEASE: 6.1.192"));
  CHECK_THAT(run.out, Catch::Contains(d31.facts()["symbols"]["panic"].get<std::string>().substr(2) + " (T) panic"));
  CHECK(run.err.empty());

  SECTION("a failing command prints one line naming it and the run exits 1") {
    Run bad = run_coroner(args, "rd nosuchsymbol\nsys\n");
    CHECK(bad.status == 1);
    CHECK_THAT(bad.err, Catch::StartsWith("rd nosuchsymbol: "));
    CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
    CHECK_THAT(bad.out, Catch::Contains("RELEASE: 6.1.192"));  // the run went on
  }
  SECTION("an unknown command says so") {
    Run bad = run_coroner(args, "frobnicate\n");
    CHECK(bad.status == 1);
    CHECK_THAT(bad.err, Catch::Contains("frobnicate: command not found"));
  }
  SECTION("--output json prints one JSON document per command, JSON Lines when several") {
    Run json = run_coroner("--output json " + args, "sys\nvtop " +
                           d31.facts()["memory_samples"][2]["vaddr"].get<std::string>() + "\n");
    CHECK(json.status == 0);
    REQUIRE(std::count(json.out.begin(), json.out.end(), '\n') == 2);
    const size_t split = json.out.find('\n');
    auto sys = nlohmann::json::parse(json.out.substr(0, split));
    auto vtop = nlohmann::json::parse(json.out.substr(split + 1));
    CHECK(sys["release"] == "6.1.192");
    CHECK(hex_value(vtop["paddr"]) == hex_value(d31.facts()["memory_samples"][2]["paddr"]));
  }
}

TEST_CASE("coroner -x COMMAND and -i FILE run the same commands as standard input", "[main][batch]") {
  const DumpCase& d31 = fixture_case("x86_64/oops-kdump/d31");
  const std::string dump = d31.vmlinux() + " " + d31.files().front() + " --mod-path " +
                           fs::path(d31.module_path()).parent_path().string();
  const std::string pid = std::to_string(d31.facts()["tasks"][1]["pid"].get<int>());
  const std::vector<std::string> commands = {"sys", "bt", "p/x fx_magic", "struct fx_item -o", "bt " + pid};
  std::string script, options;
  for (const std::string& command : commands) {
    script += command + "\n";
    options += " -x '" + command + "'";
  }
  const Run piped = run_coroner("-s " + dump, script);
  REQUIRE(piped.status == 0);
  CHECK(piped.err.empty());
  CHECK_THAT(piped.out, Catch::Contains("RELEASE: 6.1.192"));
  CHECK_THAT(piped.out, Catch::Contains("fx_magic = 0xc0ffee11deadbeef\n"));
  CHECK_THAT(piped.out, Catch::Contains(d31.facts()["crashed_thread"]["stack"][0].get<std::string>()));

  // -x: in order, then exit without reading standard input.
  const Run with_x = run_coroner("-s" + options + " " + dump, "p jiffies_64\n");
  CHECK(with_x.status == 0);
  CHECK(with_x.out == piped.out);
  CHECK(run_coroner("-s --command=sys " + dump, "").out == run_coroner("-s " + dump, "sys\n").out);

  // -i FILE: the file's commands, then standard input's.
  const fs::path file = cache_dir() / ("main-script-" + std::to_string(::getpid()));
  std::ofstream(file) << "# a comment\n" << script << "\n";
  const Run with_i = run_coroner("-s -i " + file.string() + " " + dump, "");
  CHECK(with_i.status == 0);
  CHECK(with_i.out == piped.out);
  CHECK(run_coroner("-s -i " + file.string() + " " + dump, "sys\n").out ==
        piped.out + run_coroner("-s " + dump, "sys\n").out);
  fs::remove(file);
  const Run missing = run_coroner("-s -i /nonexistent/script " + dump, "");
  CHECK(missing.status == 2);
  CHECK_THAT(missing.err, Catch::StartsWith("coroner: /nonexistent/script: cannot open"));

  SECTION("--output json with several commands is JSON Lines, one document per command") {
    const Run json = run_coroner("-s --output json" + options + " " + dump, "");
    CHECK(json.status == 0);
    std::vector<nlohmann::json> documents;
    std::istringstream lines(json.out);
    for (std::string line; std::getline(lines, line);) {
      INFO(line);
      REQUIRE(nlohmann::json::accept(line));
      documents.push_back(nlohmann::json::parse(line));
    }
    REQUIRE(documents.size() == commands.size());
    CHECK(documents[0]["release"] == d31.facts()["osrelease"]);
    // p's JSON holds the number whatever the format letter.
    CHECK(documents[2]["value"] == hex_value(d31.facts()["values"]["fx_magic"]));
    // One command: one document, as text for people.
    const Run one = run_coroner("-s --output json -x sys " + dump, "");
    CHECK(std::count(one.out.begin(), one.out.end(), '\n') > 1);
    CHECK(nlohmann::json::parse(one.out)["release"] == d31.facts()["osrelease"]);
  }
  SECTION("script lines pipe, redirect and use aliases as in the shell") {
    std::vector<std::string> expected;
    for (const std::string& line : lines_of(run_coroner("-s -x bt " + dump, "").out))
      if (line.find("fx_crash") != std::string::npos) expected.push_back(line);
    REQUIRE(expected.size() >= 3);  // fx_crash_level3..1 [fx_crash]
    const fs::path log = cache_dir() / ("main-log-" + std::to_string(::getpid()));
    const Run run = run_coroner("-s " + dump, "alias trace bt\ntrace | grep fx_crash\nlog > " + log.string() + "\n");
    CHECK(run.status == 0);
    std::vector<std::string> got = lines_of(run.out);
    REQUIRE(!got.empty());
    CHECK_THAT(got.front(), Catch::Contains("trace") && Catch::EndsWith("bt"));  // alias shows what it defined
    got.erase(got.begin());
    CHECK(got == expected);
    std::ifstream written(log);
    CHECK(std::string(std::istreambuf_iterator<char>(written), {}) == run_coroner("-s -x log " + dump, "").out);
    fs::remove(log);
  }
  SECTION("a failing command exits 1, names itself on standard error, and the others run") {
    const Run bad = run_coroner("-s -x sys -x 'p no_such_symbol' -x 'bt " + pid + "' " + dump, "");
    CHECK(bad.status == 1);
    CHECK_THAT(bad.err, Catch::StartsWith("p no_such_symbol: "));
    CHECK_THAT(bad.err, Catch::Contains("no_such_symbol'"));
    CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
    CHECK(bad.out == run_coroner("-s -x sys -x 'bt " + pid + "' " + dump, "").out);
    const Run json = run_coroner("-s --output json -x sys -x frobnicate " + dump, "");
    CHECK(json.status == 1);
    CHECK(json.err == "frobnicate: command not found (\"help\" lists the commands)\n");
    CHECK(nlohmann::json::parse(json.out)["release"] == d31.facts()["osrelease"]);
  }
}

TEST_CASE("coroner --help is rendered from the descriptions of its options and commands", "[main][manual]") {
  const Run help = run_coroner("--help", "");
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::StartsWith("Usage: coroner [-s] [-i FILE] [-x COMMAND]..."));
  for (const char* option : {"-x, --command COMMAND", "-i FILE", "--output text|json", "--mod-path DIR",
                             "--debuginfo-dir DIR", "--build-index VMLINUX", "CORONER_CACHE_DIR", "DEBUGINFOD_URLS"})
    CHECK_THAT(help.out, Catch::Contains(option));
  const Run bad = run_coroner("-x", "");
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Catch::StartsWith("coroner: -x needs a value\nUsage: coroner "));
}

TEST_CASE("coroner with no arguments opens the bundled sample dump", "[main][sample]") {
  Run run = run_coroner("-s", "sys\n");
  CHECK(run.status == 0);
  CHECK_THAT(run.out, Catch::Contains("RELEASE: 6.1.192"));
  CHECK_THAT(run.out, Catch::Contains("MACHINE: aarch64"));
  CHECK_THAT(run.out, Catch::Contains("Unable to handle kernel NULL pointer dereference"));
}

TEST_CASE("coroner's errors are one line with a non-zero exit", "[main][errors]") {
  const DumpCase& d31 = fixture_case("x86_64/oops-kdump/d31");
  SECTION("missing dump file") {
    Run run = run_coroner("-s " + d31.vmlinux() + " /nonexistent/vmcore", "sys\n");
    CHECK(run.status == 1);
    CHECK_THAT(run.err, Catch::Contains("/nonexistent/vmcore"));
    CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
  }
  SECTION("a file that is not a dump") {
    Run run = run_coroner("-s " + d31.vmlinux() + " " + (fixtures_root() / "README.md").string(), "sys\n");
    CHECK(run.status == 1);
    CHECK_THAT(run.err, Catch::Contains("README.md"));
    CHECK_THAT(run.err, Catch::Contains("not a vmcore"));
  }
  SECTION("a vmlinux of another kernel: refused, the dump opened from its kallsyms") {
    const DumpCase& arm = fixture_case("arm64/oops-kdump/d31");
    Run run = run_coroner("-s " + d31.vmlinux() + " " + arm.files().front(), "sys\n");
    CHECK(run.status == 0);
    CHECK_THAT(run.out,
               Catch::Contains("KERNEL: (no vmlinux: symbols from the dump's kallsyms, types inferred from memory)"));
    CHECK_THAT(run.err, Catch::Contains("does not match"));
    // Both build-ids: vmlinux's (the x86_64 kernel's) and the dump's.
    CHECK_THAT(run.err, Catch::Contains("build-id " + d31.facts()["vmcoreinfo"]["BUILD-ID"].get<std::string>() +
                                        " in the kernel"));
    CHECK_THAT(run.err, Catch::Contains(arm.facts()["vmcoreinfo"]["BUILD-ID"].get<std::string>() +
                                        " in the dump's VMCOREINFO"));
    CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
  }
  SECTION("usage errors exit 2") {
    CHECK(run_coroner("--bogus", "").status == 2);
    CHECK(run_coroner("--output yaml x y", "").status == 2);
  }
  SECTION("a DUMP alone that is not a dump") {
    Run run = run_coroner("-s /nonexistent/onlyone", "sys\n");
    CHECK(run.status == 1);
    CHECK_THAT(run.err, Catch::Contains("/nonexistent/onlyone"));
  }
}

TEST_CASE("a cold session answers without the index and leaves it to a background builder", "[main][cache]") {
  const DumpCase& d31 = fixture_case("x86_64/oops-kdump/d31");
  const fs::path dir = cache_dir() / ("background-index-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string args = "-s " + d31.vmlinux() + " " + d31.files().front();
  const std::string expected = fmt::format("jiffies_64 = {}\n", d31.facts()["values"]["jiffies_64"].get<uint64_t>());

  // The builder is off (as in every other test): the session leaves no index.
  Run quiet = run_coroner(args, "p jiffies_64\n", "CORONER_CACHE_DIR=" + dir.string() + " CORONER_BACKGROUND_INDEX=0");
  CHECK(quiet.out == expected);
  CHECK(files_ending(dir, ".index") == 0);

  Run cold = run_coroner(args, "p jiffies_64\n", "CORONER_CACHE_DIR=" + dir.string() + " CORONER_BACKGROUND_INDEX=1");
  CHECK(cold.status == 0);
  CHECK(cold.out == expected);
  // The detached builder writes both caches after the session has ended.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while ((files_ending(dir, ".index") == 0 || files_ending(dir, ".building") != 0) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(files_ending(dir, ".index") == 1);
  CHECK(files_ending(dir, ".symbols") == 1);
  CHECK(files_ending(dir, ".building") == 0);
  Run warm = run_coroner(args, "p jiffies_64\n", "CORONER_CACHE_DIR=" + dir.string());
  CHECK(warm.out == expected);
  fs::remove_all(dir);
}

TEST_CASE("coroner --build-index builds the caches in the foreground", "[main][cache]") {
  const DumpCase& d31 = fixture_case("x86_64/oops-kdump/d31");
  const fs::path dir = cache_dir() / ("build-index-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Run built = run_coroner("--build-index " + d31.vmlinux(), "", "CORONER_CACHE_DIR=" + dir.string());
  CHECK(built.status == 0);
  CHECK(files_ending(dir, ".index") == 1);
  CHECK(files_ending(dir, ".symbols") == 1);
  Run bad = run_coroner("--build-index " + (fixtures_root() / "README.md").string(), "", "CORONER_CACHE_DIR=" + dir.string());
  CHECK(bad.status == 1);
  CHECK_THAT(bad.err, Catch::Contains("README.md"));
  CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
  CHECK(run_coroner("--build-index", "").status == 2);
  fs::remove_all(dir);
}

TEST_CASE("a damaged cache: sessions answer right, and coroner --build-index writes it again", "[main][cache]") {
  const DumpCase& d31 = fixture_case("x86_64/oops-kdump/d31");
  const fs::path dir = cache_dir() / ("damaged-cache-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  // No background builder: the foreground one would find its lock taken.
  const std::string env = "CORONER_CACHE_DIR=" + dir.string() + " CORONER_BACKGROUND_INDEX=0";
  const std::string args = "-s " + d31.vmlinux() + " " + d31.files().front();
  const std::string expected = fmt::format("jiffies_64 = {}\n", d31.facts()["values"]["jiffies_64"].get<uint64_t>());
  auto build_id = symbols::elf_build_id(d31.vmlinux());
  REQUIRE(build_id);
  REQUIRE(run_coroner("--build-index " + d31.vmlinux(), "", env).status == 0);
  CHECK((fs::status(dir).permissions() & fs::perms::all) == fs::perms::owner_all);
  for (const char* suffix : {".index", ".symbols"}) {
    INFO(suffix);
    const fs::path file = dir / (*build_id + suffix);
    CHECK((fs::status(file).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
    std::string damaged = file_contents(file);
    damaged[damaged.size() / 2] ^= 0x10;
    write_file_contents(file, damaged);
    CHECK(run_coroner(args, "p jiffies_64\n", env).out == expected);
    REQUIRE(run_coroner("--build-index " + d31.vmlinux(), "", env).status == 0);
    CHECK(symbols::read_cache_file(file.string(), *build_id).has_value());
    CHECK(run_coroner(args, "p jiffies_64\n", env).out == expected);
  }
  fs::remove_all(dir);
}

}  // namespace coroner::test
