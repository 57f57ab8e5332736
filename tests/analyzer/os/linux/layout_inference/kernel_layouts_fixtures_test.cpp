// The layouts inferred from memory on every fixture kernel, member by
// member against the vmlinux's DWARF: the inference reads only memory and
// kallsyms, so a program opened with the vmlinux checks it.
#include "analyzer/os/linux/layout_inference/kernel_layouts.hpp"
#include "tests/support/distro_dumps.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

namespace coroner::test {

namespace {

// Where DWARF spells an inferred member otherwise: the cpu (thread_info's
// from 5.16), the state (a long named state before 5.14), and the register
// save area the inference places as "thread".
std::string dwarf_member(const Program& program, const std::string& type, const std::string& member) {
  auto has = [&](std::string_view name) {
    auto info = program.debug_info();
    return info && (*info)->has_member("struct task_struct", name).value_or(false);
  };
  if (type == "task_struct" && member == "cpu") return has("cpu") ? "cpu" : "thread_info.cpu";
  if (type == "task_struct" && member == "__state") return has("__state") ? "__state" : "state";
  if (type == "task_struct" && member == "thread")
    return program.arch().machine() == Machine::x86_64 ? "thread.sp" : "thread.cpu_context";
  return member;
}

// Every inferred member against DWARF; how many each struct has.
std::map<std::string, size_t> check_layouts(const Program& program) {
  auto inferred = linux_kernel::inference::infer_kernel_layouts(program);
  CHECK(inferred.missing.empty());
  std::map<std::string, size_t> members;
  for (const symbols::SyntheticStruct& layout : inferred.layouts) {
    if (layout.typedef_only || layout.name == "thread_struct") continue;  // (thread_struct: see dwarf_member)
    for (const symbols::SyntheticMember& member : layout.members) {
      INFO("struct " << layout.name << "." << member.name);
      auto offset = program.member_offset("struct " + layout.name, dwarf_member(program, layout.name, member.name));
      REQUIRE(offset);
      CHECK(*offset == member.offset);
      ++members[layout.name];
    }
  }
  // What the Linux model reads was all found.
  const bool x86_64 = program.arch().machine() == Machine::x86_64;
  CHECK(members["task_struct"] >= 21);
  CHECK(members["rq"] == 2);
  CHECK(members["module"] == 6);
  CHECK(members["bin_attribute"] == 3);
  CHECK(members["timekeeper"] == 3);
  CHECK(members["pglist_data"] >= 2);
  CHECK(members[x86_64 ? "inactive_task_frame" : "cpu_context"] >= 7);
  return members;
}

}  // namespace

TEST_CASE("the layouts inferred from memory place every member where DWARF does", "[layout_inference][facts]") {
  std::set<std::string> seen;
  for (const DumpCase& dump : all_dumps()) {
    if (!seen.insert(dump.arch_dir + dump.scenario).second) continue;
    SECTION(dump.id) {
      auto program = open_program(dump);
      CHECK(check_layouts(*program)["mm_struct"] == 3);
    }
  }
}

// Debian's kernels: 5.10 (task_struct.cpu and state, struct vmacache before
// the task's rss_stat), 6.1, 6.12 (percpu_counter rss_stat, module mem[]),
// arm64. The inference reads memory and symbols only, so the -dbg vmlinux
// checks it.
TEST_CASE("the layouts inferred from memory on Debian's kernels place every member where DWARF does",
          "[layout_inference][distro]") {
  for (const std::string& name : {"5.10-amd64", "6.1-amd64", "6.12-amd64", "6.1-arm64"}) {
    SECTION(name) {
      const DistroKernel kernel = distro_kernel(name);
      ProgramOptions options;
      options.vmlinux = kernel.vmlinux();
      options.dumps = {kernel.dump()};
      options.cache_dir = (cache_dir() / "coroner").string();
      options.os_model = linux_kernel::open_linux_kernel;
      auto program = open_program(options, name);
      CHECK(check_layouts(*program)["mm_struct"] == 3);
    }
  }
}

}  // namespace coroner::test
