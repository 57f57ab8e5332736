// coroner-capture's zstd and snappy dumps are byte for byte what upstream
// makedumpfile 1.7.9 writes (the x86_64 fixture's d31-zstd and d31-snappy,
// made with -z -d 31 and -p -d 31), whatever the number of compression
// threads: the per-thread codec state is reset between pages, and the
// pipeline keeps pfn order.
#include "tests/capture/test_capture_support.hpp"

#include <catch2/catch.hpp>

using namespace coroner;
using namespace coroner::test;

TEST_CASE("zstd (-z) and snappy (-p) dumps at -d 31 are byte for byte upstream makedumpfile's", "[capture][fixtures][codec]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/vmcore");
  fs::path dir = capture_scratch("codec-bytes");
  for (auto [option, variant] : {std::pair{"-z", "d31-zstd"}, std::pair{"-p", "d31-snappy"}}) {
    std::string theirs = file_contents(fixture_case(fmt::format("x86_64/oops-kdump/{}", variant)).files().front());
    REQUIRE(theirs.size() > 1024 * 1024);
    for (const char* threads : {"0", "1", "3"}) {
      INFO(option << " --num-threads " << threads);
      std::string out = (dir / fmt::format("{}-{}", variant, threads)).string();
      REQUIRE(capture_in_process({option, "-d", "31", "--num-threads", threads, c.files().front(), out}) == 0);
      CHECK(file_contents(out) == theirs);
    }
  }
}
