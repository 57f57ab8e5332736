// Truncated copies of real fixtures: opening and running sys and rd on
// them ends in an answer or a clear error, never a crash, and never wrong
// bytes.
#include "tests/commands/command_runner.hpp"

#include <fstream>

namespace coroner::test {

namespace {

// Writes the first `length` bytes of `source` to a scratch file.
std::string truncated_copy(const std::string& source, uint64_t length, const std::string& tag) {
  fs::path out = cache_dir() / ("truncated-" + tag + "-" + std::to_string(length));
  if (fs::exists(out)) return out.string();
  std::ifstream in(source, std::ios::binary);
  fs::path temp = out.string() + "." + std::to_string(::getpid());
  std::ofstream o(temp, std::ios::binary);
  std::vector<char> buf(1 << 20);
  uint64_t left = length;
  while (left > 0 && in) {
    in.read(buf.data(), static_cast<std::streamsize>(std::min<uint64_t>(left, buf.size())));
    o.write(buf.data(), in.gcount());
    left -= static_cast<uint64_t>(in.gcount());
  }
  o.close();
  fs::rename(temp, out);
  return out.string();
}

}  // namespace

TEST_CASE("truncated fixture dumps give errors, not crashes or wrong bytes", "[truncated]") {
  for (const DumpCase& dump : all_dumps()) {
    // The fixture files themselves; the makedumpfile-made variants are
    // covered by the format tests.
    if (dump.variant != "vmcore" && dump.variant != "elf" && dump.variant != "d31" && dump.variant != "kdump-zlib")
      continue;
    SECTION(dump.id) {
      std::string file = dump.files().front();
      uint64_t size = fs::file_size(file);
      std::vector<uint64_t> cuts = {0, 16, 200, 4096, 70000};
      if (size < (64u << 20)) cuts.insert(cuts.end(), {size / 3, size / 2, size - 1});
      else cuts.push_back(48u << 20);
      for (uint64_t cut : cuts) {
        INFO("cut at " << cut << " of " << size);
        std::string copy = truncated_copy(file, cut, dump.arch_dir + "-" + dump.scenario + "-" + dump.variant);
        ProgramOptions options = program_options(dump);
        options.dumps = {copy};
        auto program = Program::open(options);
        if (!program) {
          CHECK_FALSE(program.error().message().empty());
          continue;
        }
        std::ostringstream out;
        commands::CommandContext context{**program, commands::OutputFormat::json, out};
        (void)commands::run_command_line(context, "sys");
        // Whatever reads succeed must return the true bytes.
        if (!dump.facts().contains("memory_samples")) continue;
        for (const auto& sample : dump.facts()["memory_samples"]) {
          std::ostringstream rd_out;
          commands::CommandContext rd_context{**program, commands::OutputFormat::json, rd_out};
          auto rd = commands::run_command_line(rd_context, "rd -8 " + sample["vaddr"].get<std::string>() + " 64");
          if (!rd) continue;
          std::vector<uint8_t> raw = bytes_of(nlohmann::json::parse(rd_out.str()));
          CHECK(sha256_hex(raw.data(), raw.size()) == sample["sha256"].get<std::string>());
        }
      }
    }
  }
}

}  // namespace coroner::test
