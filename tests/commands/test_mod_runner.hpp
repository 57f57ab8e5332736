// Module tests' picks: one dump per scenario whose facts.json lists
// modules, and memory samples by kind. Commands run through CommandRunner,
// which opens dumps with --mod-path at the fixture's fx_crash.ko.
#pragma once

#include "tests/commands/command_runner.hpp"

#include <set>

namespace coroner::test {

// The first dump of each kernel and scenario whose facts list modules.
inline std::vector<const DumpCase*> module_dumps() {
  std::vector<const DumpCase*> picked;
  std::set<std::string> seen;
  for (const DumpCase& dump : all_dumps())
    if (dump.facts().contains("modules") && seen.insert(dump.arch_dir + "/" + dump.scenario).second)
      picked.push_back(&dump);
  return picked;
}

inline const nlohmann::json* memory_sample(const nlohmann::json& facts, const std::string& kind) {
  for (const auto& sample : facts["memory_samples"])
    if (sample["kind"] == kind) return &sample;
  return nullptr;
}

}  // namespace coroner::test
