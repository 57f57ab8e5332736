// What a fixture's guest said about itself outside the dump: its serial
// console (console.log: the crashed kernel's lines, then a capture
// kernel's boot) and its .config. For tests that check commands against it.
#pragma once

#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace coroner::test {


// The time stamp ("4.088577") and text of each line the crashed kernel
// printed on its console, up to the capture kernel's boot (its "Booting
// Linux on physical CPU" on arm64, its "Linux version" on x86_64).
inline std::vector<std::pair<std::string, std::string>> console_lines(const DumpCase& dump) {
  std::ifstream in(fixtures_root() / dump.arch_dir / dump.scenario / "console.log", std::ios::binary);
  static const std::regex stamped(R"(\[ *(\d+\.\d{6})\] (.*))");
  std::vector<std::pair<std::string, std::string>> lines;
  bool booted = false;  // the crashed kernel's "Linux version" was seen
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::smatch m;
    if (!std::regex_search(line, m, stamped)) continue;
    std::string text = m[2];
    bool boot = text.starts_with("Linux version") || text.starts_with("Booting Linux on physical CPU");
    if (boot && booted) break;
    booted = booted || text.starts_with("Linux version");
    lines.emplace_back(m[1], std::move(text));
  }
  return lines;
}

// The first group of `pattern` in the first console line of the crashed
// kernel that has it.
inline std::optional<std::string> console_capture(const DumpCase& dump, const std::regex& pattern) {
  for (const auto& [time, text] : console_lines(dump)) {
    std::smatch m;
    if (std::regex_search(text, m, pattern)) return m[1].str();
  }
  return std::nullopt;
}

// CONFIG_HZ of the fixture kernel's .config.
inline int64_t config_hz(const DumpCase& dump) {
  std::ifstream in(fixtures_root() / dump.arch_dir / "config");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("CONFIG_HZ=")) return std::stoll(line.substr(10));
  FAIL("no CONFIG_HZ in " << dump.arch_dir << "/config");
  return 0;
}

}  // namespace coroner::test
