// makedumpfile's options beyond page filtering and compression, compared
// with what makedumpfile 1.7 does on the same input: -R and --reassemble
// (byte for byte makedumpfile's), --dry-run, --show-stats,
// -D, -i, --mem-usage, the accepted no-ops, --cyclic-buffer (windows give
// the same bytes) and a bad command line (exit
// status 1, like makedumpfile's).
#include "capture/format/kdump_compressed.hpp"
#include "tests/capture/test_capture_support.hpp"

#include <catch2/catch.hpp>

using namespace coroner;
using namespace coroner::test;

namespace {

const DumpCase& x86_vmcore() { return fixture_case("x86_64/oops-kdump/vmcore"); }

CommandResult capture(const std::string& arguments) { return run_shell(capture_executable() + " " + arguments); }

// The report line "  free                   :      95324" -> "95324".
std::string report_value(const std::string& report, const std::string& label) {
  for (const std::string& line : lines_of(report))
    if (line.find(label) != std::string::npos) return line.substr(line.find_last_of(' ') + 1);
  return {};
}

}  // namespace

TEST_CASE("makedumpfile -R: coroner-capture -R reassembles a flattened stream byte for byte the same", "[capture][fixtures][makedumpfile]") {
  const DumpCase& c = x86_vmcore();
  fs::path dir = capture_scratch("rearrange");
  std::string flat = capture_output(c, flattened_options());
  std::string ours = (dir / "R").string();
  CommandResult result = capture(fmt::format("-R {} < {}", ours, flat));
  INFO(result.output);
  REQUIRE(result.status == 0);
  CHECK(file_contents(ours) == file_contents(reassembled_output(capture_executable(), c, flattened_options())));
  // Like makedumpfile, an existing DUMPFILE is kept unless -f.
  CHECK(capture(fmt::format("-R {} < {}", ours, flat)).status == 1);
  CHECK(capture(fmt::format("-f -R {} < {}", ours, flat)).status == 0);
  // Not a flattened stream: one line, status 1.
  CommandResult bad = capture(fmt::format("-f -R {} < {}", ours, c.files().front()));
  CHECK(bad.status == 1);
  CHECK_THAT(bad.output, Catch::Contains("standard input: not a flattened dump"));
  // Cut short: an error, not a dump that looks whole.
  CommandResult cut = run_shell(fmt::format("head -c 100000 {} | {} -f -R {}", flat, capture_executable(), ours));
  CHECK(cut.status != 0);
}

TEST_CASE("makedumpfile --reassemble: our --reassemble joins --split parts into makedumpfile's single dump", "[capture][fixtures][makedumpfile]") {
  const DumpCase& c = x86_vmcore();
  fs::path dir = capture_scratch("reassemble");
  // makedumpfile's parts: our reassembly is byte for byte makedumpfile's,
  // which is the dump it writes in one file.
  std::string parts = fmt::format("{0}/m1 {0}/m2 {0}/m3", dir.string());
  run_command(fmt::format("makedumpfile --split -c -d 31 {} {}", c.files().front(), parts));
  REQUIRE(capture(fmt::format("--reassemble {} {}/whole", parts, dir.string())).status == 0);
  run_command(fmt::format("makedumpfile --reassemble {} {}/by-makedumpfile", parts, dir.string()));
  run_command(fmt::format("makedumpfile -c -d 31 {} {}/single", c.files().front(), dir.string()));
  std::string whole = file_contents(dir / "whole");
  CHECK(whole == file_contents(dir / "by-makedumpfile"));
  CHECK(whole == file_contents(dir / "single"));
  // Our parts reassemble into that same dump too.
  std::string ours = fmt::format("{0}/p1 {0}/p2 {0}/p3", dir.string());
  REQUIRE(capture(fmt::format("--split -c -d 31 {} {}", c.files().front(), ours)).status == 0);
  REQUIRE(capture(fmt::format("--reassemble {} {}/ours-whole", ours, dir.string())).status == 0);
  CHECK(file_contents(dir / "ours-whole") == whole);
  CommandResult not_split = capture(fmt::format("--reassemble {} {} {}/x", fixture_case("x86_64/oops-kdump/d31").files().front(),
                                                c.files().front(), dir.string()));
  CHECK(not_split.status == 1);
}

TEST_CASE("makedumpfile --dry-run and --show-stats and -D and -i and the no-op options", "[capture][fixtures][makedumpfile]") {
  const DumpCase& c = x86_vmcore();
  fs::path dir = capture_scratch("dry-run");
  std::string vmcore = c.files().front();
  std::string real = capture_output(c, matrix_options(31, "-c"));
  CommandResult real_run = capture(fmt::format("-c -d 31 --num-threads 2 {} {}/again", vmcore, dir.string()));
  REQUIRE(real_run.status == 0);

  // --dry-run: nothing written, the same report.
  CommandResult dry = capture(fmt::format("--dry-run -c -d 31 {} {}/never", vmcore, dir.string()));
  INFO(dry.output);
  REQUIRE(dry.status == 0);
  CHECK_FALSE(fs::exists(dir / "never"));
  CHECK_THAT(dry.output, Catch::Contains("--dry-run: nothing was written"));
  for (std::string label : {"Excluded pages", "filled with zero", "non-private cache", "free", "Written pages"})
    CHECK(report_value(dry.output, label) == report_value(real_run.output, label));
  CHECK(run_shell(fmt::format("{{ {} --dry-run -F -c -d 31 {} > {}/stdout 2>/dev/null; }}", capture_executable(), vmcore, dir.string())).status == 0);
  CHECK(fs::file_size(dir / "stdout") == 0);

  // --show-stats: the report, even when --message-level leaves it out.
  CHECK(capture(fmt::format("--message-level 0 --dry-run -d 31 {} {}/x", vmcore, dir.string())).output.empty());
  CHECK_THAT(capture(fmt::format("--message-level 0 --show-stats --dry-run -d 31 {} {}/x", vmcore, dir.string())).output,
             Catch::Contains("Excluded pages"));

  // -D: what was read, in debug lines.
  CommandResult debug = capture(fmt::format("-D --dry-run -d 31 {} {}/x", vmcore, dir.string()));
  CHECK_THAT(debug.output, Catch::Contains("debug: " + vmcore + " is elf, x86_64, page size 4096"));
  CHECK_THAT(debug.output, Catch::Contains("OSRELEASE=" + c.facts().at("osrelease").get<std::string>()));

  // -i VMCOREINFO (the dump's own text), -x and makedumpfile's bitmap
  // options change nothing.
  auto input = open_or_fail({vmcore});
  write_file_contents(dir / "vmcoreinfo", *input->vmcoreinfo_text());
  std::string same = (dir / "same").string();
  REQUIRE(capture(fmt::format("-c -d 31 -i {}/vmcoreinfo -x {} -b 8 --cyclic-buffer 1024 --non-cyclic "
                              "--splitblock-size 1048576 --work-dir {} {} {}",
                              dir.string(), c.vmlinux(), dir.string(), vmcore, same))
              .status == 0);
  CHECK(file_contents(same) == file_contents(real));
  CommandResult no_info = capture(fmt::format("-c -i {}/never {} {}/y", dir.string(), vmcore, dir.string()));
  CHECK(no_info.status == 1);
  CHECK_THAT(no_info.output, Catch::Contains("cannot open the VMCOREINFO file"));
}

TEST_CASE("makedumpfile --mem-usage: ours counts pages by kind as a -d 31 dump excludes them", "[capture][fixtures][makedumpfile]") {
  const DumpCase& c = x86_vmcore();
  CommandResult usage = capture("--mem-usage " + c.files().front());
  INFO(usage.output);
  REQUIRE(usage.status == 0);
  CommandResult report = capture(fmt::format("--dry-run -d 31 {} /nonexistent/x", c.files().front()));
  auto row = [&](const std::string& type) {
    for (const std::string& line : lines_of(usage.output))
      if (line.starts_with(type + "\t")) return line.substr(line.find_first_not_of('\t', type.size()), 
                                                          line.find_first_of(" \t", line.find_first_not_of('\t', type.size())) -
                                                              line.find_first_not_of('\t', type.size()));
    return std::string();
  };
  CHECK(row("ZERO") == report_value(report.output, "filled with zero"));
  CHECK(row("NON_PRI_CACHE") == report_value(report.output, "non-private cache"));
  CHECK(row("USER") == report_value(report.output, "user process data"));
  CHECK(row("FREE") == report_value(report.output, "  free"));
  CHECK_THAT(usage.output, Catch::Contains("page size:\t\t4096"));
}

TEST_CASE("a bad command line is one line and status 1 as makedumpfile's", "[capture][makedumpfile]") {
  for (std::string arguments : {"--bogus vmcore out", "-Y vmcore out", "-R", "--reassemble a b", "-d 32 vmcore out",
                                "--dump-dmesg -c vmcore out", "-R -c out", "--mem-usage vmcore out"}) {
    INFO(arguments);
    CommandResult ours = capture(arguments);
    CHECK(ours.status == 1);
    CHECK(lines_of(ours.output).size() == 2);  // the reason and "Try ... --help"
    CHECK(run_shell("makedumpfile " + arguments).status == 1);
  }
}

TEST_CASE("makedumpfile --cyclic-buffer: a dump filtered and written in windows is byte for byte the one-window dump", "[capture][fixtures][makedumpfile]") {
  for (const DumpCase* c : capture_inputs()) {
    fs::path dir = capture_scratch("cyclic-" + c->arch_dir);
    const std::string vmcore = c->files().front();
    // --cyclic-buffer 1: 8192 pages a window, 16 or more windows here.
    for (auto [level, codec] : {std::pair{31, "-c"}, std::pair{31, "-z"}, std::pair{1, "-l"}, std::pair{0, "-l"}}) {
      INFO(c->arch_dir << " " << codec << " -d " << level);
      std::string reference = capture_output(*c, matrix_options(level, codec));
      fs::path windowed = dir / fmt::format("{}-d{}", codec, level);
      CommandResult ran = capture(fmt::format("--cyclic-buffer 1 {} -d {} --num-threads 2 {} {}", codec, level, vmcore,
                                              windowed.string()));
      INFO(ran.output);
      REQUIRE(ran.status == 0);
      CHECK(file_contents(windowed) == file_contents(reference));
    }
    // The closing report counts every window once.
    CommandResult one = capture(fmt::format("--non-cyclic --dry-run -d 31 {} {}/x", vmcore, dir.string()));
    CommandResult many = capture(fmt::format("--cyclic-buffer 1 --dry-run -d 31 {} {}/x", vmcore, dir.string()));
    for (std::string label : {"Excluded pages", "filled with zero", "non-private cache", "user process data", "free",
                              "Written pages"})
      CHECK(report_value(many.output, label) == report_value(one.output, label));
    // The flattened stream, rearranged; and a kdump-compressed input re-filtered.
    CHECK(run_shell(fmt::format("{{ {} --cyclic-buffer 1 -F -l -d 31 --num-threads 2 {} > {}/flat; }}", capture_executable(),
                                vmcore, dir.string()))
              .status == 0);
    REQUIRE(capture(fmt::format("-R {0}/flat-R < {0}/flat", dir.string())).status == 0);
    CHECK(file_contents(dir / "flat-R") ==
          file_contents(reassembled_output(capture_executable(), *c, flattened_options())));
    std::string d31 = capture_output(*c, matrix_options(31, "-c"));
    REQUIRE(capture(fmt::format("--cyclic-buffer 1 -l -d 31 {} {}/again", d31, dir.string())).status == 0);
    REQUIRE(capture(fmt::format("--non-cyclic -l -d 31 {} {}/again-whole", d31, dir.string())).status == 0);
    CHECK(file_contents(dir / "again") == file_contents(dir / "again-whole"));
  }
}

TEST_CASE("makedumpfile --cyclic-buffer: ELF (-E) and --split output written in windows are byte for byte the one-window output", "[capture][fixtures][makedumpfile]") {
  for (const DumpCase* c : capture_inputs()) {
    fs::path dir = capture_scratch("cyclic-elf-split-" + c->arch_dir);
    const std::string vmcore = c->files().front();
    // -d 1: zero pages found in both passes; -d 0: every page.
    for (int level : {31, 1, 0}) {
      INFO(c->arch_dir << " -d " << level);
      std::string reference =
          capture_output(*c, {"--non-cyclic", "-E", "-d", std::to_string(level), "--num-threads", "2"});
      fs::path windowed = dir / fmt::format("elf-d{}", level);
      CommandResult ran = capture(fmt::format("--cyclic-buffer 1 -E -d {} --num-threads 2 {} {}", level, vmcore,
                                              windowed.string()));
      INFO(ran.output);
      REQUIRE(ran.status == 0);
      CHECK(byte_difference(windowed, reference) == "");

      std::vector<std::string> one, many;
      for (int part = 0; part < 3; ++part) {
        one.push_back((dir / fmt::format("split-d{}-one-{}", level, part)).string());
        many.push_back((dir / fmt::format("split-d{}-many-{}", level, part)).string());
      }
      REQUIRE(capture(fmt::format("--non-cyclic --split -l -d {} {} {}", level, vmcore, fmt::join(one, " "))).status == 0);
      REQUIRE(capture(fmt::format("--cyclic-buffer 1 --split -l -d {} {} {}", level, vmcore, fmt::join(many, " ")))
                  .status == 0);
      for (int part = 0; part < 3; ++part) CHECK(byte_difference(many[part], one[part]) == "");
    }
  }
}
