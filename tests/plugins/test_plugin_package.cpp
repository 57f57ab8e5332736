// Must-show 2: `cmake --install` of the plugin component to a temporary
// prefix, a plugin built out of the tree against that prefix's headers and
// CMake package (find_package(coroner-plugin)), loaded and run by coroner.
#include "tests/plugins/plugin_test_support.hpp"

using namespace coroner::test;

TEST_CASE("a plugin built out of tree against the installed package loads and runs", "[plugins][package]") {
  const fs::path root = cache_dir() / "plugin-package";
  fs::remove_all(root);
  const fs::path prefix = root / "prefix", source = root / "source", build = root / "build";
  fs::create_directories(source);
  const std::string cmake = CORONER_CMAKE_COMMAND;
  run_command(cmake + " --install " + CORONER_BINARY_DIR + " --prefix " + prefix.string() + " --component plugins");
  CHECK(fs::exists(prefix / "include/coroner/plugin.hpp"));
  // Only the public headers: nothing of coroner's tree is installed with them.
  for (const auto& entry : fs::recursive_directory_iterator(prefix / "include"))
    if (entry.is_regular_file()) CHECK(entry.path().parent_path().filename() == "coroner");

  std::ofstream(source / "CMakeLists.txt") << R"(cmake_minimum_required(VERSION 3.25)
project(magic LANGUAGES CXX)
find_package(coroner-plugin 1 REQUIRED)
add_library(magic MODULE magic.cpp)
target_link_libraries(magic PRIVATE coroner::plugin_api)
set_target_properties(magic PROPERTIES PREFIX "" CXX_VISIBILITY_PRESET hidden)
)";
  std::ofstream(source / "magic.cpp") << R"(#include <coroner/plugin.hpp>
namespace {
void magic(coroner::plugin::Context& ctx, const std::vector<std::string>&) {
  const uint64_t value = ctx.variable("fx_magic").value().as_unsigned().value();
  if (ctx.json()) ctx.emit(coroner::plugin::Json::object({{"fx_magic", coroner::plugin::hex(value)}}));
  else ctx.print("fx_magic is " + coroner::plugin::hex(value) + "\n");
}
void init(coroner::plugin::Registrar& registrar) {
  registrar.command("magic", "prints fx_magic", "  magic\n  crash> magic", {}, magic);
}
}  // namespace
CORONER_PLUGIN("magic", "0.1", "out of tree", init)
)";
  run_command(cmake + " -S " + source.string() + " -B " + build.string() + " -DCMAKE_PREFIX_PATH=" + prefix.string() +
              " -DCMAKE_CXX_COMPILER=" + CORONER_CXX_COMPILER);
  run_command(cmake + " --build " + build.string());
  REQUIRE(fs::exists(build / "magic.so"));

  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  const std::string magic = dump.facts().at("values").at("fx_magic");
  const std::string out = run_command(coroner_env() + " -s --plugin " + (build / "magic.so").string() +
                                      dump_arguments(dump) + commands_x({"magic"}));
  CHECK(out == "fx_magic is " + magic + "\n");
  // The installed example plugins, found in the installed plugin directory's place.
  const std::string listed = run_command(coroner_env((prefix / "lib/coroner/plugins").string()) + " --list-plugins");
  CHECK_THAT(listed, Catch::Contains("fxitems") && Catch::Contains("hungtasks") && Catch::Contains("stackgroups"));
}
