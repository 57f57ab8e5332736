// Program reads vmlinux's symbol table only when something asks for it: a
// `p` of a global DWARF describes fully leaves it unread.
#include "analyzer/object.hpp"
#include "tests/analyzer/test_object_dumps.hpp"
#include "tests/commands/command_runner.hpp"

namespace coroner::test {

TEST_CASE("Program::open and p of a plain global do not read the symbol table", "[program][symbols]") {
  for (const DumpCase* dump : object_test_dumps()) {
    SECTION(dump->id) {
      CommandRunner run(*dump);
      const Program& program = run.program();
      CHECK_FALSE(program.symbols_loaded());
      // KERNELOFFSET gave the slide without the table.
      CHECK(program.kaslr_offset() == static_cast<int64_t>(hex_value(dump->facts()["vmcoreinfo"]["KERNELOFFSET"])));
      CHECK(run.json("p init_uts_ns.name.release")["value"] == dump->facts()["osrelease"]);
      CHECK(run.json("p jiffies_64")["value"] == dump->facts()["values"]["jiffies_64"]);
      CHECK_FALSE(program.symbols_loaded());

      // The first symbol lookup reads it, at run-time addresses.
      auto panic = program.symbol_address("panic");
      REQUIRE(panic.has_value());
      CHECK(*panic == hex_value(dump->facts()["symbols"]["panic"]));
      CHECK(program.symbols_loaded());
      auto table = program.symbol_table();
      REQUIRE(table.has_value());
      CHECK(*table == &program.symbols());
      CHECK((*table)->slide() == program.kaslr_offset());
    }
  }
}

TEST_CASE("per-CPU data is linked at 0 on x86_64 only, as its __per_cpu_start says", "[program][symbols][percpu]") {
  for (const DumpCase* dump : object_test_dumps()) {
    SECTION(dump->id) {
      CommandRunner run(*dump);
      const Program& program = run.program();
      const bool x86_64 = dump->arch_dir.find("x86_64") != std::string::npos;
      CHECK(program.percpu_linked_at_zero() == x86_64);
      CHECK_FALSE(program.symbols_loaded());
      const symbols::Symbol* start = program.symbols().find("__per_cpu_start");
      REQUIRE(start != nullptr);
      CHECK((start->address == 0) == program.percpu_linked_at_zero());
    }
  }
}

}  // namespace coroner::test
