// The shared list_head walker on synthetic lists in fake memory: the order
// and containers of a good list, and one error naming the list and the
// list_head for each kind of corruption. The real task and module lists of
// the fixtures go through it in tasks_fixtures_test.cpp and
// test_modules_fixtures.cpp.
#include "analyzer/os/linux/list_walk.hpp"
#include "tests/analyzer/os/linux/fake_kernel.hpp"

#include <catch2/catch.hpp>

#include <vector>

namespace coroner::test {

using namespace linux_kernel;

namespace {

constexpr uint64_t kHead = 0x1000;
constexpr uint64_t kLink = 0x10;  // offset of the list_head in each container

// Links the list_heads at `links` into the list at kHead, in that order.
void link(FakeKernel& k, const std::vector<uint64_t>& links) {
  uint64_t previous = kHead;
  for (uint64_t at : links) {
    k.phys.put<uint64_t>(previous, at);
    previous = at;
  }
  k.phys.put<uint64_t>(previous, kHead);
}

struct Walked {
  Expected<void> result;
  std::vector<uint64_t> containers;
};

Walked walk(FakeKernel& k, ListBudget& budget) {
  Walked w;
  w.result = walk_list(k.memory, "test list", kHead, kLink, budget, [&w](uint64_t container) -> Expected<void> {
    w.containers.push_back(container);
    return {};
  });
  return w;
}

Walked walk(FakeKernel& k, size_t limit = 100) {
  ListBudget budget{limit};
  return walk(k, budget);
}

}  // namespace

TEST_CASE("walk_list visits each container in list order", "[list_walk]") {
  FakeKernel k;
  SECTION("a list of three") {
    link(k, {0x2000 + kLink, 0x3000 + kLink, 0x2800 + kLink});
    Walked w = walk(k);
    REQUIRE(w.result);
    CHECK(w.containers == std::vector<uint64_t>{0x2000, 0x3000, 0x2800});
  }
  SECTION("an empty list: the head points at itself") {
    link(k, {});
    Walked w = walk(k);
    REQUIRE(w.result);
    CHECK(w.containers.empty());
  }
  SECTION("an error of the visitor ends the walk unchanged") {
    link(k, {0x2000 + kLink, 0x3000 + kLink});
    ListBudget budget{100};
    size_t visits = 0;
    auto refuse = [&visits](uint64_t container) -> Expected<void> {
      ++visits;
      return make_error(Errc::not_found, "container {:#x} refused", container);
    };
    auto result = walk_list(k.memory, "test list", kHead, kLink, budget, refuse);
    REQUIRE_FALSE(result);
    CHECK(visits == 1);
    CHECK(result.error().code() == Errc::not_found);
    CHECK(result.error().message() == "container 0x2000 refused");
  }
}

TEST_CASE("walk_list: a corrupt list gives one error naming the list and where it broke", "[list_walk]") {
  FakeKernel k;
  SECTION("a loop that never returns to the head") {
    link(k, {0x2000 + kLink, 0x3000 + kLink});
    k.phys.put<uint64_t>(0x3000 + kLink, 0x2000 + kLink);
    Walked w = walk(k);
    REQUIRE_FALSE(w.result);
    CHECK(w.result.error().code() == Errc::corrupt);
    CHECK(w.result.error().message() == "test list at 0x1000: entry 0x2010 is reached twice (a loop)");
    CHECK(w.containers == std::vector<uint64_t>{0x2000, 0x3000});
  }
  SECTION("an entry whose next pointer is not in the dump") {
    link(k, {0x2000 + kLink, 0x9000 + kLink});
    k.phys.remove_page(0x9000);
    Walked w = walk(k);
    REQUIRE_FALSE(w.result);
    CHECK(w.result.error().code() == Errc::not_in_dump);  // the read's own reason
    const std::string& message = w.result.error().message();
    CHECK_THAT(message, Catch::StartsWith("test list at 0x1000: next pointer of list_head 0x9010: "));
    CHECK_THAT(message, Catch::Contains("not in dump"));
    CHECK(message.find('\n') == std::string::npos);
  }
  SECTION("an unreadable head") {
    Walked w = walk(k);
    REQUIRE_FALSE(w.result);
    CHECK_THAT(w.result.error().message(),
               Catch::StartsWith("test list at 0x1000: next pointer of list_head 0x1000: "));
    CHECK(w.containers.empty());
  }
  SECTION("a NULL next pointer") {
    link(k, {0x2000 + kLink});
    k.phys.put<uint64_t>(0x2000 + kLink, 0);
    Walked w = walk(k);
    REQUIRE_FALSE(w.result);
    CHECK(w.result.error().code() == Errc::corrupt);
    CHECK(w.result.error().message() == "test list at 0x1000: list_head 0x2010 has a NULL next pointer");
  }
  SECTION("more entries than the limit") {
    link(k, {0x2000 + kLink, 0x3000 + kLink, 0x4000 + kLink});
    CHECK(walk(k, 3).result);
    Walked w = walk(k, 2);
    REQUIRE_FALSE(w.result);
    CHECK(w.result.error().code() == Errc::corrupt);
    CHECK(w.result.error().message() ==
          "test list at 0x1000: more than 2 entries (the limit is reached at entry 0x4010)");
    CHECK(w.containers == std::vector<uint64_t>{0x2000, 0x3000});
  }
  SECTION("one budget bounds several walks together") {
    link(k, {0x2000 + kLink, 0x3000 + kLink});
    ListBudget budget{3};
    REQUIRE(walk(k, budget).result);
    CHECK(budget.used == 2);
    Walked second = walk(k, budget);
    REQUIRE_FALSE(second.result);
    CHECK_THAT(second.result.error().message(), Catch::Contains("more than 3 entries"));
    CHECK(second.containers == std::vector<uint64_t>{0x2000});
  }
}

}  // namespace coroner::test
