// What the erase tests check on a dump written with --config: the bytes an
// erase offsets file names (run by coroner-capture's own evaluator on the
// unerased dump) and a page-by-page comparison of the erased dump with the
// unerased one.
#pragma once

#include "analyzer/arch/arch.hpp"
#include "analyzer/arch/kernel_memory.hpp"
#include "capture/erase/erased_dump.hpp"
#include "tests/capture/captured_outputs.hpp"

#include <catch2/catch.hpp>

#include <map>

namespace coroner::test {

inline fs::path erase_scratch(const std::string& name) {
  fs::path dir = cache_dir() / "erase-tests" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

inline std::unique_ptr<Dump> open_or_fail(const std::string& path) {
  auto dump = open_dump({path});
  if (!dump) FAIL(path << ": " << dump.error().message());
  return std::move(*dump);
}

// The ranges (virtual) the offsets erase in `dump`.
inline std::vector<capture::EraseRange> erase_ranges(const Dump& dump, const std::string& offsets) {
  auto info = VmcoreInfo::parse(dump.vmcoreinfo_text().value_or(""));
  auto arch = arch::make_arch(dump.machine(), info);
  REQUIRE(arch);
  KernelMemory memory(dump, **arch);
  auto program = capture::parse_erase_offsets(file_contents(offsets), offsets);
  if (!program) FAIL(program.error().message());
  auto ranges = capture::evaluate_erase_program(*program, memory, info.kernel_offset().value_or(0));
  if (!ranges) FAIL(ranges.error().message());
  return *ranges;
}

// The physical bytes the offsets erase in `dump`, by address: the fill.
inline std::map<uint64_t, std::byte> erased_bytes(const Dump& dump, const std::string& offsets) {
  auto info = VmcoreInfo::parse(dump.vmcoreinfo_text().value_or(""));
  auto arch = arch::make_arch(dump.machine(), info);
  REQUIRE(arch);
  KernelMemory memory(dump, **arch);
  auto pieces = capture::physical_erases(erase_ranges(dump, offsets), memory, dump.page_size());
  REQUIRE(pieces);
  std::map<uint64_t, std::byte> bytes;
  for (const auto& piece : *pieces)
    for (uint64_t i = 0; i < piece.size; ++i) bytes[piece.paddr + i] = piece.fill;
  return bytes;
}

struct PageComparison {
  uint64_t pages = 0;        // pages in both
  uint64_t wrong = 0;        // bytes neither erased as wanted nor the plain dump's
  uint64_t erased_seen = 0;  // wanted erased bytes found erased
};

// Every page of `plain` against `erased`: the bytes in `want` must hold
// their fill, every other byte the plain dump's; both hold the same pages.
inline PageComparison compare_pages(const Dump& plain, const Dump& erased, const std::map<uint64_t, std::byte>& want) {
  PageComparison result;
  uint64_t page = plain.page_size();
  std::vector<std::byte> a(page), b(page);
  for (const PhysRange& r : plain.ranges())
    for (uint64_t at = (r.start + page - 1) / page * page; at + page <= r.end(); at += page) {
      auto got_plain = plain.read(at, a);
      auto got_erased = erased.read(at, b);
      REQUIRE(bool(got_plain) == bool(got_erased));
      if (!got_plain) continue;
      ++result.pages;
      for (uint64_t i = 0; i < page; ++i) {
        auto it = want.find(at + i);
        std::byte expected = it == want.end() ? a[i] : it->second;
        if (it != want.end() && b[i] == expected) ++result.erased_seen;
        if (b[i] != expected && ++result.wrong < 5) UNSCOPED_INFO("byte at " << std::hex << at + i << " differs");
      }
    }
  return result;
}

}  // namespace coroner::test
