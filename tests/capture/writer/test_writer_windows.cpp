// The ELF and --split writers on the fixture vmcores in windows of 64 pfns,
// far smaller than the command line can ask for (its windows are multiples
// of 8192 pfns, which no short excluded run of these dumps crosses): runs
// of excluded pages cross many window ends, and the bytes must still be
// those of one window.
#include "capture/writer/elf_writer.hpp"
#include "tests/capture/test_capture_support.hpp"
#include "tests/support/kernel_memory_fixture.hpp"

#include <catch2/catch.hpp>

using namespace coroner;
using namespace coroner::capture;
using namespace coroner::test;

namespace {

constexpr uint64_t kTinyWindow = 64;

// A plan filtering at `level` in windows of `window_pfns` (UINT64_MAX: one).
DumpPlan plan_for(const OpenedKernel& k, unsigned level, uint64_t window_pfns) {
  auto selector = PageSelector::create(*k.dump, k.info, *k.memory, level);
  REQUIRE(selector);
  // make_dump_plan rounds windows up to 4096 pfns: set the tiny one after.
  auto plan = make_dump_plan(*k.dump, k.info, *k.memory, std::move(*selector), level,
                             window_pfns == UINT64_MAX ? UINT64_MAX : 4096);
  REQUIRE(plan);
  if (window_pfns != UINT64_MAX) plan->window_pfns = window_pfns;
  return std::move(*plan);
}

fs::path write_elf_file(const OpenedKernel& k, unsigned level, uint64_t window_pfns, const fs::path& path) {
  DumpPlan plan = plan_for(k, level, window_pfns);
  auto out = open_output_file(path.string(), true);
  REQUIRE(out);
  Progress progress(false);
  PipelineSettings settings;
  settings.threads = 2;
  auto written = write_elf(plan, settings, nullptr, **out, progress);
  INFO(path.string());
  REQUIRE(written);
  return path;
}

std::vector<fs::path> write_split_files(const OpenedKernel& k, unsigned level, uint64_t window_pfns,
                                           const fs::path& dir) {
  DumpPlan plan = plan_for(k, level, window_pfns);
  auto parts = split_parts(plan, 3);
  REQUIRE(parts);
  std::vector<fs::path> paths;
  Progress progress(false);
  PipelineSettings settings;
  settings.codec = PageCodec::lzo;
  settings.threads = 2;
  settings.detect_zero = (level & kExcludeZero) != 0;
  for (size_t i = 0; i < parts->size(); ++i) {
    fs::path path = dir / fmt::format("part{}", i);
    auto out = open_output_file(path.string(), true);
    REQUIRE(out);
    PagePipeline pipeline(*plan.dump, plan.page_size, settings);
    auto written = write_kdump(plan, pipeline, **out, (*parts)[i], progress);
    INFO(path.string());
    REQUIRE(written);
    paths.push_back(path);
  }
  return paths;
}

}  // namespace

TEST_CASE("ELF and --split writers in 64-pfn windows write the bytes of one window", "[capture][fixtures][elf][split]") {
  for (const DumpCase* c : capture_inputs()) {
    OpenedKernel k = open_kernel_memory(*c);
    fs::path dir = capture_scratch("tiny-windows-" + c->arch_dir);
    for (unsigned level : {31u, 1u, 0u}) {
      INFO(c->arch_dir << " -d " << level);
      CHECK(byte_difference(write_elf_file(k, level, kTinyWindow, dir / "elf-tiny"),
                            write_elf_file(k, level, UINT64_MAX, dir / "elf-one")) == "");
      fs::create_directories(dir / "tiny");
      fs::create_directories(dir / "one");
      auto tiny = write_split_files(k, level, kTinyWindow, dir / "tiny");
      auto one = write_split_files(k, level, UINT64_MAX, dir / "one");
      REQUIRE(tiny.size() == one.size());
      for (size_t i = 0; i < one.size(); ++i) CHECK(byte_difference(tiny[i], one[i]) == "");
    }
  }
}
