// A Program is opened with its OS model (ProgramOptions::os_model): built
// once, after the dump, architecture and memory are ready, and asked for the
// kernel's modules once. A fake model stands in for Linux here.
#include "analyzer/program.hpp"
#include "tests/analyzer/test_object_dumps.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>

namespace coroner::test {

namespace {

class FakeOs final : public OsModel {
 public:
  explicit FakeOs(int& reads) : reads_(reads) {}
  std::string_view name() const override { return "fake"; }
  std::string_view display_name() const override { return "Fake"; }
  Expected<ModuleList> read_modules() const override {
    ++reads_;
    ModuleList list;
    list.modules.push_back(std::make_unique<KernelModule>());
    list.modules.back()->name = "fake_mod";
    list.modules.back()->core = {{0x1000, 0x100}};
    list.skipped.push_back(make_error(Errc::corrupt, "module list at 0x2000: a loop"));
    return list;
  }

 private:
  int& reads_;
};

}  // namespace

TEST_CASE("a Program is opened with its OS model, built once, which reads its modules once", "[program][os_model]") {
  const DumpCase* dump = object_test_dumps().front();
  ProgramOptions options = program_options(*dump);
  int built = 0;
  int reads = 0;
  Machine seen = Machine::unknown;
  options.os_model = [&](const Program& program) -> Expected<std::unique_ptr<OsModel>> {
    ++built;
    seen = program.arch().machine();  // the architecture is ready
    return std::unique_ptr<OsModel>(std::make_unique<FakeOs>(reads));
  };
  auto program = Program::open(options);
  REQUIRE(program);
  CHECK(built == 1);
  CHECK(seen == (*program)->dump().machine());
  CHECK((*program)->os().name() == "fake");
  CHECK(reads == 0);  // modules are read on first use
  auto modules = (*program)->modules();
  REQUIRE(modules);
  REQUIRE((*modules)->size() == 1);
  CHECK((*program)->find_module("fake-mod") == (*modules)->front().get());
  REQUIRE((*program)->modules_skipped().size() == 1);  // kept with the modules read before the damage
  CHECK((*program)->modules_skipped().front().message() == "module list at 0x2000: a loop");
  (void)(*program)->modules();
  CHECK(reads == 1);
  CHECK(built == 1);
}

TEST_CASE("Program::open without an OS model, or with one that refuses the dump, is a one-line error",
          "[program][os_model]") {
  const DumpCase* dump = object_test_dumps().front();
  ProgramOptions options = program_options(*dump);
  options.os_model = nullptr;
  auto missing = Program::open(options);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message() == dump->files().front() + ": no OS model to open it with (ProgramOptions::os_model)");

  options.os_model = [](const Program&) -> Expected<std::unique_ptr<OsModel>> {
    return make_error(Errc::unsupported, "not this OS");
  };
  auto refused = Program::open(options);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message() == "not this OS");
}

}  // namespace coroner::test
