// The dumps the typed-object and data-command tests run on: the oops-kdump
// d31 of every fixture kernel (facts with tasks and values, filtered pages)
// and the panic-qemu dumps whose facts carry values (a second system state).
#pragma once

#include "tests/support/fixtures.hpp"

#include <string>
#include <vector>

namespace coroner::test {

inline std::vector<const DumpCase*> object_test_dumps() {
  std::vector<const DumpCase*> dumps;
  for (const DumpCase& c : all_dumps()) {
    const bool oops = c.scenario == "oops-kdump" && c.variant == "d31";
    const bool panic = c.scenario == "panic-qemu" && c.variant == "kdump-zlib" && c.facts().contains("values");
    if (oops || panic) dumps.push_back(&c);
  }
  return dumps;
}

// Tasks of facts.json with their task_struct addresses.
inline const nlohmann::json& fact_tasks(const DumpCase& dump) {
  static const nlohmann::json none = nlohmann::json::array();
  return dump.facts().contains("tasks") ? dump.facts()["tasks"] : none;
}

// How crash prints a char[size] holding the C string `text`: every byte,
// NULs as \000, except the NUL that ends the array ("swapper/0\000...").
inline std::string crash_char_array(const std::string& text, size_t size) {
  std::string out = "\"" + text;
  for (size_t i = text.size(); i + 1 < size; ++i) out += "\\000";
  return out + "\"";
}

}  // namespace coroner::test
