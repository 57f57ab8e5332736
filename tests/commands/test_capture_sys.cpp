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

nlohmann::json sys_of(const DumpCase& input, const std::string& dump) {
  ProgramOptions options = program_options(input);
  options.dumps = {dump};
  CommandRunner runner(options, dump);
  return runner.json("sys");
}

// `out`'s sys is the input's but for the fields that name the file or its
// container. MEMORY is the kernel's count of its pages, the same whatever
// the container holds.
void check_same_sys(const DumpCase& input, const nlohmann::json& want, const std::string& out,
                    const std::string& format) {
  INFO(out);
  nlohmann::json got = sys_of(input, out), expected = want;
  CHECK(got.at("dumpfile") == nlohmann::json::array({out}));  // the file's name
  CHECK(got.at("format") == format);                          // the container and its compression
  expected["dumpfile"] = got.at("dumpfile");
  expected["format"] = got.at("format");
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
      nlohmann::json want = sys_of(input, input.files().front());
      // The input's own sys is the kernel's (facts.json).
      CHECK(want.at("release") == input.facts().at("osrelease"));
      CHECK(want.at("online_cpus") == input.facts().at("online_cpus"));
      CHECK(want.at("panic") == input.facts().at("oops_message"));
      CHECK(want.at("problems").empty());
      for (int level : kMatrixLevels)
        for (std::string codec : kMatrixCodecs) {
          INFO(codec << " -d " << level);
          std::string out = captured_output(CORONER_CAPTURE_BINARY, input, matrix_options(level, codec));
          check_same_sys(input, want, out, fmt::format("kdump-compressed ({}), dump level {}", codec_name(codec), level));
        }
      check_same_sys(input, want, captured_output(CORONER_CAPTURE_BINARY, input, elf_options()), "ELF (makedumpfile -E)");
      check_same_sys(input, want, captured_output(CORONER_CAPTURE_BINARY, input, flattened_options()),
                     "kdump-compressed (lzo), dump level 31, flattened");
    }
  }
}
