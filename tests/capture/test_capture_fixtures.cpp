// coroner-capture on the real vmcores of both architectures: every dump
// level and compression reads back identical to the input and keeps exactly
// what makedumpfile keeps; ELF, flattened, split and --dump-dmesg outputs
// agree with makedumpfile's. (crash 8.0.2 on these outputs:
// test_capture_crash.cpp; coroner's `sys`: tests/commands/test_capture_sys.cpp.)
#include "capture/format/kdump_compressed.hpp"
#include "tests/capture/test_capture_support.hpp"

#include <catch2/catch.hpp>

using namespace coroner;
using namespace coroner::test;

namespace {

const KdumpDump& as_kdump(const Dump& dump) {
  auto* kdump = dynamic_cast<const KdumpDump*>(&dump);
  REQUIRE(kdump);
  return *kdump;
}

}  // namespace

TEST_CASE("kdump output of every dump level and compression reads back as the input", "[capture][fixtures]") {
  for (const DumpCase* c : capture_inputs()) {
    SECTION(c->id) {
      std::string vmcore = c->files().front();
      auto input = open_or_fail({vmcore});
      auto reference_d31 = open_or_fail(fixture_case(c->id.substr(0, c->id.rfind('/')) + "/d31").files());
      const KdumpDump& makedumpfile_d31 = as_kdump(*reference_d31);
      std::vector<bool> dumped_at_d0;
      for (int level : kMatrixLevels) {
        for (std::string codec : kMatrixCodecs) {
          INFO(c->id << " " << codec << " -d " << level);
          // The executable's output, kept for the crash and `sys` tests.
          std::string out = capture_output(*c, matrix_options(level, codec));
          auto dump = open_or_fail({out});
          const KdumpDump& kdump = as_kdump(*dump);
          CHECK_FALSE(dump->incomplete());
          CHECK(dump->dump_level() == level);
          CHECK(kdump.header_version() == 6);
          check_same_metadata(*input, *dump);
          uint64_t pages = check_pages_identical(*input, *dump);
          CHECK(pages > 0);

          std::vector<bool> dumped(kdump.max_mapnr());
          uint64_t differ_from_makedumpfile = 0;
          for (uint64_t pfn = 0; pfn < dumped.size(); ++pfn) {
            dumped[pfn] = kdump.page_dumped(pfn);
            if (level == 31 && dumped[pfn] != makedumpfile_d31.page_dumped(pfn)) ++differ_from_makedumpfile;
          }
          CHECK(kdump.max_mapnr() == makedumpfile_d31.max_mapnr());
          if (level == 0) {
            // Everything the input holds, as makedumpfile -d 0.
            for (uint64_t pfn = 0; pfn < dumped.size(); ++pfn)
              if (dumped[pfn] != makedumpfile_d31.page_in_memory(pfn)) ++differ_from_makedumpfile;
            dumped_at_d0 = dumped;
          } else if (level == 1) {
            // Zero pages keep their descriptor (all share one zero page).
            CHECK(dumped == dumped_at_d0);
          }
          CHECK(differ_from_makedumpfile == 0);
          if (codec == "-c" && level != 0) check_memory_samples(*dump, *c);
        }
      }
    }
  }
}

TEST_CASE("dump level 31 with makedumpfile's compression is byte for byte makedumpfile's", "[capture][fixtures]") {
  // Same page set, same layout, same zlib: the arm64 fixture's d31 was made
  // by makedumpfile -c -d 31 inside the capture kernel.
  const DumpCase& c = fixture_case("arm64/oops-kdump/vmcore");
  fs::path dir = capture_scratch("same-bytes");
  std::string out = (dir / "d31").string();
  REQUIRE(capture_in_process({"-c", "-d", "31", "--num-threads", "2", c.files().front(), out}) == 0);
  CHECK(file_contents(out) == file_contents(fixture_case("arm64/oops-kdump/d31").files().front()));
}

TEST_CASE("ELF output (-E) is the ELF dump makedumpfile -E writes", "[capture][fixtures][elf]") {
  for (const DumpCase* c : capture_inputs()) {
    SECTION(c->id) {
      std::string vmcore = c->files().front();
      std::string out = capture_output(*c, elf_options());
      auto input = open_or_fail({vmcore});
      auto dump = open_or_fail({out});
      CHECK(dump->format_name() == "elf");
      CHECK_FALSE(dump->incomplete());
      check_same_metadata(*input, *dump);
      CHECK(check_pages_identical(*input, *dump) > 0);
      check_memory_samples(*dump, *c);
      // makedumpfile -E made the same segments: the same pages readable
      // (x86_64 only: Debian's x86_64 makedumpfile cannot read arm64 vmcores).
      if (c->arch_dir == "linux-6.1-x86_64") {
        auto reference = open_or_fail(fixture_case("x86_64/oops-kdump/elf-d31").files());
        std::vector<std::byte> page(input->page_size());
        uint64_t disagree = 0;
        for (const PhysRange& r : input->ranges())
          for (uint64_t paddr = r.start; paddr + page.size() <= r.end(); paddr += page.size())
            disagree += bool(dump->read(paddr, page)) != bool(reference->read(paddr, page));
        CHECK(disagree == 0);
      }
    }
  }
}

TEST_CASE("flattened output (-F) streams a dump that our reader and makedumpfile -R read", "[capture][fixtures][flattened]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  std::string vmcore = c.files().front();
  std::string flat = capture_output(c, flattened_options());
  auto dump = open_or_fail({flat});
  CHECK(dump->format_name() == "flattened");
  CHECK_FALSE(dump->incomplete());
  auto input = open_or_fail({vmcore});
  check_same_metadata(*input, *dump);
  CHECK(check_pages_identical(*input, *dump) > 0);

  // makedumpfile -R of the stream is the dump written directly.
  std::string reassembled = reassembled_output(capture_executable(), c, flattened_options());
  CHECK(file_contents(reassembled) == file_contents(capture_output(c, matrix_options(31, "-l"))));
}

TEST_CASE("split output (--split) writes parts that open together and read back as the input", "[capture][fixtures][split]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  std::string vmcore = c.files().front();
  fs::path dir = capture_scratch("split");
  std::vector<std::string> parts = {(dir / "a").string(), (dir / "b").string(), (dir / "c").string()};
  REQUIRE(capture_in_process({"--split", "-z", "-d", "31", "--num-threads", "2", vmcore, parts[0], parts[1],
                              parts[2]}) == 0);
  auto dump = open_or_fail(parts);
  CHECK(dump->format_name() == "split");
  CHECK_FALSE(dump->incomplete());
  const KdumpDump& kdump = as_kdump(*dump);
  REQUIRE(kdump.parts().size() == 3);
  for (const auto& part : kdump.parts()) CHECK(part.sub.split == 1);
  auto input = open_or_fail({vmcore});
  check_same_metadata(*input, *dump);
  CHECK(check_pages_identical(*input, *dump) > 0);
  auto reference = open_or_fail(fixture_case("x86_64/oops-kdump/d31").files());
  uint64_t differ = 0;
  for (uint64_t pfn = 0; pfn < kdump.max_mapnr(); ++pfn)
    differ += kdump.page_dumped(pfn) != as_kdump(*reference).page_dumped(pfn);
  CHECK(differ == 0);
}

TEST_CASE("the log (--dump-dmesg) is what makedumpfile --dump-dmesg writes", "[capture][fixtures][dmesg]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  fs::path dir = capture_scratch("dmesg");
  std::string ours = (dir / "ours").string(), theirs = (dir / "theirs").string();
  REQUIRE(capture_in_process({"--dump-dmesg", c.files().front(), ours}) == 0);
  run_command(fmt::format("makedumpfile --dump-dmesg {} {}", c.files().front(), theirs));
  std::string expected = file_contents(theirs);
  REQUIRE(expected.size() > 1000);
  CHECK(file_contents(ours) == expected);
}

TEST_CASE("a kdump-compressed input is filtered and compressed again", "[capture][fixtures][refilter]") {
  // makedumpfile -l -d 0 of the x86_64 vmcore, down to -d 31 with zstd.
  const DumpCase& d0 = fixture_case("x86_64/oops-kdump/d0");
  fs::path dir = capture_scratch("refilter");
  std::string out = (dir / "d31").string();
  REQUIRE(capture_in_process({"-z", "-d", "31", "--num-threads", "2", d0.files().front(), out}) == 0);
  auto dump = open_or_fail({out});
  CHECK(as_kdump(*dump).codec() == PageCodec::zstd);
  auto vmcore = open_or_fail(fixture_case("x86_64/oops-kdump/vmcore").files());
  check_same_metadata(*open_or_fail(d0.files()), *dump);
  CHECK(check_pages_identical(*vmcore, *dump) > 0);
  auto reference = open_or_fail(fixture_case("x86_64/oops-kdump/d31").files());
  uint64_t differ = 0;
  for (uint64_t pfn = 0; pfn < as_kdump(*dump).max_mapnr(); ++pfn)
    differ += as_kdump(*dump).page_dumped(pfn) != as_kdump(*reference).page_dumped(pfn);
  CHECK(differ == 0);
  check_memory_samples(*dump, d0);
}
