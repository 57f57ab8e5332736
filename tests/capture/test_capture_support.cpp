#include "tests/capture/test_capture_support.hpp"

#include "analyzer/arch/arch.hpp"
#include "analyzer/arch/kernel_memory.hpp"
#include "capture/capture_job.hpp"
#include "capture/format/kdump_compressed.hpp"
#include "capture/format/vmcoreinfo.hpp"
#include "capture/options.hpp"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

namespace coroner::test {

std::vector<const DumpCase*> capture_inputs() {
  std::vector<const DumpCase*> inputs;
  for (const DumpCase& c : all_dumps())
    if (c.variant == "vmcore") inputs.push_back(&c);
  REQUIRE(inputs.size() == 2);
  return inputs;
}

fs::path capture_scratch(const std::string& name) {
  fs::path dir = cache_dir() / "capture-tests" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

int capture_in_process(const std::vector<std::string>& args) {
  auto options = capture::parse_options(args);
  REQUIRE(options);
  std::unique_ptr<FILE, int (*)(FILE*)> sink(std::fopen("/dev/null", "w"), std::fclose);
  return capture::run_capture(*options, nullptr, sink.get());
}

std::string capture_executable() { return (fs::path(CORONER_BINARY_DIR) / "capture" / "coroner-capture").string(); }

std::string capture_output(const DumpCase& input, const std::vector<std::string>& options) {
  return captured_output(capture_executable(), input, options).string();
}

std::string byte_difference(const fs::path& a, const fs::path& b) {
  std::string x = file_contents(a), y = file_contents(b);
  if (x == y) return "";
  size_t at = std::mismatch(x.begin(), x.begin() + std::min(x.size(), y.size()), y.begin()).first - x.begin();
  return fmt::format("{} ({} bytes) and {} ({} bytes) differ from offset {:#x}", a.string(), x.size(), b.string(),
                     y.size(), at);
}

std::unique_ptr<Dump> open_or_fail(const std::vector<std::string>& files) {
  auto dump = open_dump(files);
  if (!dump) FAIL("cannot open " << files.front() << ": " << dump.error().message());
  return std::move(*dump);
}

void check_same_metadata(const Dump& in, const Dump& out) {
  REQUIRE(out.vmcoreinfo_text() == in.vmcoreinfo_text());
  REQUIRE(out.notes().size() == in.notes().size());
  for (size_t i = 0; i < in.notes().size(); ++i) {
    CHECK(out.notes()[i].name == in.notes()[i].name);
    CHECK(out.notes()[i].type == in.notes()[i].type);
    CHECK(out.notes()[i].desc == in.notes()[i].desc);
  }
  CHECK(out.machine() == in.machine());
}

uint64_t check_pages_identical(const Dump& in, const Dump& out) {
  uint64_t page_size = in.page_size();
  REQUIRE(page_size > 0);
  std::vector<std::byte> a(page_size), b(page_size);
  uint64_t same = 0, differ = 0, unreadable = 0;
  for (const PhysRange& r : out.ranges()) {
    for (uint64_t paddr = (r.start + page_size - 1) / page_size * page_size; paddr + page_size <= r.end();
         paddr += page_size) {
      auto got = out.read(paddr, b);
      if (!got) {
        // Pages a filter dropped; anything else is a broken dump.
        if (got.error().code() != Errc::excluded_by_filter) {
          ++unreadable;
          if (unreadable < 4) UNSCOPED_INFO(got.error().message());
        }
        continue;
      }
      auto want = in.read(paddr, a);
      if (!want) FAIL("input page " << paddr << ": " << want.error().message());
      if (a == b) ++same;
      else if (++differ < 4) UNSCOPED_INFO("page at " << paddr << " differs");
    }
  }
  CHECK(unreadable == 0);
  CHECK(differ == 0);
  return same;
}

void check_memory_samples(const Dump& dump, const DumpCase& c) {
  auto info = VmcoreInfo::parse(dump.vmcoreinfo_text().value_or(""));
  auto arch = arch::make_arch(dump.machine(), info);
  REQUIRE(arch);
  KernelMemory memory(dump, **arch);
  const auto& samples = c.facts().at("memory_samples");
  REQUIRE(!samples.empty());
  for (const auto& sample : samples) {
    std::vector<std::byte> bytes(sample.at("len").get<size_t>());
    auto got = memory.read(hex_value(sample.at("vaddr")), bytes);
    INFO(sample.at("kind").get<std::string>() << " at " << sample.at("vaddr").get<std::string>());
    REQUIRE(got);
    CHECK(sha256_hex(bytes.data(), bytes.size()) == sample.at("sha256").get<std::string>());
  }
}

}  // namespace coroner::test
