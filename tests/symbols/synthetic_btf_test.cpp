// BTF written from layouts reads back through DebugInfo as those layouts.
#include "symbols/debug_info.hpp"
#include "symbols/synthetic_btf.hpp"

#include <catch2/catch.hpp>

namespace coroner::symbols {

TEST_CASE("synthetic_btf: members, pointers, arrays, typedefs and forward declarations read back", "[synthetic_btf]") {
  const std::vector<SyntheticStruct> layouts = {
      {"list_head", 16, {{"next", 0, "struct list_head *"}, {"prev", 8, "struct list_head *"}}},
      {"atomic_t", 4, {{"counter", 0, "int"}}, true},
      {"task_struct", 4096, {{"tasks", 2000, "struct list_head"}, {"comm", 3000, "char[16]"},
                             {"mm", 1200, "struct mm_struct *"}, {"usage", 40, "atomic_t"}, {"pid", 1500, "pid_t"},
                             {"stat", 100, "atomic_t[4]"}}},
  };
  auto bytes = synthetic_btf(layouts);
  REQUIRE(bytes);
  auto info = DebugInfo::open_btf(std::move(*bytes), "synthetic");
  REQUIRE(info);
  CHECK((*info)->type_size("struct task_struct").value() == 4096);
  CHECK((*info)->member_offset("struct task_struct", "tasks.prev").value() == 2008);
  CHECK((*info)->member_offset("struct task_struct", "comm").value() == 3000);
  CHECK((*info)->member_offset("struct task_struct", "usage.counter").value() == 40);
  CHECK((*info)->type_size("atomic_t").value() == 4);
  CHECK((*info)->member_offset("struct task_struct", "pid").value() == 1500);
  // struct mm_struct is only declared.
  CHECK_FALSE((*info)->member_offset("struct mm_struct", "pgd"));
}

TEST_CASE("synthetic_btf: what cannot be spelled or placed is an error naming it", "[synthetic_btf]") {
  auto unknown = synthetic_btf({{"a", 8, {{"x", 0, "float128"}}}});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message() == "synthetic BTF: cannot spell the type \"float128\"");
  auto beyond = synthetic_btf({{"a", 8, {{"x", 8, "int"}}}});
  REQUIRE_FALSE(beyond);
  CHECK(beyond.error().message() == "synthetic BTF: a.x at 8 lies beyond its size 8");
  auto bad_array = synthetic_btf({{"a", 8, {{"x", 0, "int[x]"}}}});
  REQUIRE_FALSE(bad_array);
}

}  // namespace coroner::symbols
