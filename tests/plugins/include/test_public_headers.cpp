// The public plugin headers include only each other and the standard
// library: no LLVM, fmt, nlohmann or coroner-internal header leaks into a
// plugin's build (the example and test plugins are compiled with only
// plugins/include on their include path).
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>

using namespace coroner::test;

TEST_CASE("the public plugin headers include only the standard library and each other", "[plugins][headers]") {
  const fs::path include = fs::path(CORONER_SOURCE_DIR) / "plugins/include/coroner";
  const std::regex include_line(R"(^\s*#\s*include\s*([<"])([^>"]+)[>"])");
  size_t headers = 0;
  for (const auto& entry : fs::directory_iterator(include)) {
    ++headers;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (!std::regex_search(line, m, include_line)) continue;
      INFO(entry.path().filename().string() << ": " << line);
      if (m[1] == "\"") {
        CHECK(m[2].str().starts_with("coroner/"));
        CHECK(fs::exists(include.parent_path() / m[2].str()));
      } else {
        CHECK(m[2].str().find('/') == std::string::npos);  // <string>, not <fmt/format.h> or <llvm/...>
        CHECK(m[2].str().find('.') == std::string::npos);
      }
    }
  }
  CHECK(headers >= 5);
}
