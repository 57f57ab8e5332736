// coroner opens every coroner-capture output of the fixture vmcores (both
// arches; each dump level and compression, ELF and flattened) with the same
// `sys` as the input vmcore, compared as JSON field by field. The outputs
// are the ones test_capture checks page by page and with crash, written once
// per build of the dumper (tests/capture/captured_outputs.hpp). Here rather
// than in test_capture, which does not link the analyzer: the commands run
// in this process, without starting coroner for each of 30 dumps.
#include "tests/capture/captured_outputs.hpp"
#include "tests/commands/command_runner.hpp"

#include <catch2/catch.hpp>

using namespace coroner;
using namespace coroner::test;

namespace {

struct SysOfDump {
  nlohmann::json sys;
  std::vector<PhysRange> ranges;  // the RAM the dump describes
  uint64_t page_size = 0;         // 0: the container does not say (ELF)
};

SysOfDump sys_of(const DumpCase& input, const std::string& dump) {
  ProgramOptions options = program_options(input);
  options.dumps = {dump};
  CommandRunner runner(options, dump);
  const Dump& opened = runner.program().dump();
  return {runner.json("sys"), opened.ranges(), opened.page_size()};
}

// Bytes of `ranges` in whole pages.
uint64_t whole_page_bytes(const std::vector<PhysRange>& ranges, uint64_t page) {
  uint64_t bytes = 0;
  for (const PhysRange& r : ranges) {
    uint64_t first = (r.start + page - 1) / page, end = r.end() / page;
    if (end > first) bytes += (end - first) * page;
  }
  return bytes;
}

// `out`'s sys is the input's but for the fields that name the file or its
// container, and (kdump-compressed) the RAM size.
void check_same_sys(const DumpCase& input, const SysOfDump& want, const std::string& out, const std::string& format,
                    bool whole_pages) {
  INFO(out);
  SysOfDump output = sys_of(input, out);
  nlohmann::json got = output.sys, expected = want.sys;
  CHECK(got.at("dumpfile") == nlohmann::json::array({out}));  // the file's name
  CHECK(got.at("format") == format);                          // the container and its compression
  expected["dumpfile"] = got.at("dumpfile");
  expected["format"] = got.at("format");
  // A kdump-compressed file records whole pages only (a bitmap of page
  // frames), as makedumpfile's: the input's partial pages (x86_64's RAM ends
  // at 0x9fc00 below 1 MB) are not in its RAM size.
  if (whole_pages) {
    REQUIRE(output.page_size > 0);
    expected["memory_bytes"] = whole_page_bytes(want.ranges, output.page_size);
  }
  CHECK(got.dump(2) == expected.dump(2));
}

std::string codec_name(const std::string& option) {
  return option == "-c" ? "zlib" : option == "-l" ? "lzo" : option == "-p" ? "snappy" : "zstd";
}

}  // namespace

TEST_CASE("coroner-capture's outputs open in coroner with the input's sys", "[commands][sys][capture]") {
  for (const DumpCase& input : all_dumps()) {
    if (input.variant != "vmcore") continue;
    SECTION(input.id) {
      SysOfDump want = sys_of(input, input.files().front());
      // The input's own sys is the kernel's (facts.json).
      CHECK(want.sys.at("release") == input.facts().at("osrelease"));
      CHECK(want.sys.at("online_cpus") == input.facts().at("online_cpus"));
      CHECK(want.sys.at("panic") == input.facts().at("oops_message"));
      CHECK(want.sys.at("problems").empty());
      for (int level : kMatrixLevels)
        for (std::string codec : kMatrixCodecs) {
          INFO(codec << " -d " << level);
          std::string out = captured_output(CORONER_CAPTURE_BINARY, input, matrix_options(level, codec));
          check_same_sys(input, want, out, fmt::format("kdump-compressed ({}), dump level {}", codec_name(codec), level),
                         true);
        }
      check_same_sys(input, want, captured_output(CORONER_CAPTURE_BINARY, input, elf_options()),
                     "ELF (makedumpfile -E)", false);
      check_same_sys(input, want, captured_output(CORONER_CAPTURE_BINARY, input, flattened_options()),
                     "kdump-compressed (lzo), dump level 31, flattened", true);
    }
  }
}
