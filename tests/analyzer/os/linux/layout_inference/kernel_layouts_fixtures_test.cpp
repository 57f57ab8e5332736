// The layouts inferred from memory on every fixture kernel, member by
// member against the vmlinux's DWARF: the inference reads only memory and
// kallsyms, so a program opened with the vmlinux checks it.
#include "analyzer/os/linux/layout_inference/kernel_layouts.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

namespace coroner::test {

namespace {

// Where DWARF spells an inferred member otherwise: the cpu of thread_info
// (5.16+), and the register save area the inference places as "thread".
std::string dwarf_member(const std::string& type, const std::string& member, bool x86_64) {
  if (type == "task_struct" && member == "cpu") return "thread_info.cpu";
  if (type == "task_struct" && member == "thread") return x86_64 ? "thread.sp" : "thread.cpu_context";
  return member;
}

}  // namespace

TEST_CASE("the layouts inferred from memory place every member where DWARF does", "[layout_inference][facts]") {
  std::set<std::string> seen;
  for (const DumpCase& dump : all_dumps()) {
    if (!seen.insert(dump.arch_dir + dump.scenario).second) continue;
    SECTION(dump.id) {
      auto program = open_program(dump);
      auto layouts = linux_kernel::inference::infer_kernel_layouts(*program);
      REQUIRE(layouts);
      const bool x86_64 = program->arch().machine() == Machine::x86_64;
      std::map<std::string, size_t> members;
      for (const symbols::SyntheticStruct& layout : *layouts) {
        if (layout.typedef_only || layout.name == "thread_struct") continue;  // (thread_struct: see dwarf_member)
        for (const symbols::SyntheticMember& member : layout.members) {
          INFO("struct " << layout.name << "." << member.name);
          auto offset = program->member_offset("struct " + layout.name, dwarf_member(layout.name, member.name, x86_64));
          REQUIRE(offset);
          CHECK(*offset == member.offset);
          ++members[layout.name];
        }
      }
      // What the Linux model reads was all found.
      CHECK(members["task_struct"] >= 22);
      CHECK(members["rq"] == 2);
      CHECK(members["module"] == 5);
      CHECK(members["mm_struct"] == 3);
      CHECK(members["timekeeper"] == 3);
      CHECK(members["pglist_data"] >= 2);
      CHECK(members[x86_64 ? "inactive_task_frame" : "cpu_context"] >= 7);
    }
  }
}

}  // namespace coroner::test
