// The Linux model every fixture Program is opened with: reached through
// kernel_model(), it reads the modules the program holds (fx_crash of
// facts.json) and picks the architecture's Linux pieces by machine.
#include "analyzer/os/linux/linux_kernel.hpp"
#include "analyzer/os/linux/modules.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>

namespace coroner::test {

TEST_CASE("every fixture Program has the Linux model, which reads its modules", "[linux_kernel][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    if (dump.variant != "d31" && dump.variant != "kdump-zlib") continue;  // every kernel, both scenarios
    SECTION(dump.id) {
      auto program = open_program(dump);
      CHECK(program->os().name() == "linux");
      auto model = linux_kernel::kernel_model(*program);
      REQUIRE(model);
      CHECK(&(*model)->program() == program.get());
      CHECK(&(*model)->arch() == &(*linux_kernel::kernel_model(*program))->arch());  // built once

      auto modules = program->modules();
      REQUIRE(modules);
      auto direct = linux_kernel::read_modules(*program);
      REQUIRE(direct);
      REQUIRE((*modules)->size() == direct->modules.size());
      CHECK(program->modules_skipped().empty());
      for (size_t i = 0; i < direct->modules.size(); ++i) {
        CHECK((**modules)[i]->name == direct->modules[i]->name);
        CHECK((**modules)[i]->struct_address == direct->modules[i]->struct_address);
      }
      const auto& facts = dump.facts();
      if (facts.contains("symbols") && facts["symbols"].contains("fx_crash_level3")) {
        const KernelModule* fx = program->find_module("fx_crash");
        REQUIRE(fx);
        CHECK(fx->object_path() == dump.module_path());  // attached from --mod-path
      }
    }
  }
}

TEST_CASE("kernel_model of a Program opened with another OS model is an error, no Linux pieces for an unknown "
          "machine", "[linux_kernel]") {
  struct OtherOs final : OsModel {
    std::string_view name() const override { return "other"; }
    std::string_view display_name() const override { return "Other"; }
    Expected<ModuleList> read_modules() const override { return ModuleList{}; }
  };
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  ProgramOptions options = program_options(dump);
  options.os_model = [](const Program&) -> Expected<std::unique_ptr<OsModel>> {
    return std::unique_ptr<OsModel>(std::make_unique<OtherOs>());
  };
  auto program = open_program(options, dump.id);
  auto model = linux_kernel::kernel_model(*program);
  REQUIRE_FALSE(model);
  CHECK(model.error().message() == "the program was opened with the other OS model, not Linux's");

  auto none = linux_kernel::make_linux_arch(Machine::unknown);
  REQUIRE_FALSE(none);
  CHECK(none.error().message() == "no Linux model for machine unknown");
}

}  // namespace coroner::test
