// Triage reports of the fixture dumps, with and without their vmlinux, for
// the triage tests.
#pragma once

#include "analyzer/frontends/triage/triage_report.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>

namespace coroner::test {

inline std::set<std::string> all_sections() {
  const auto& names = frontends::triage::section_names();
  return {names.begin(), names.end()};
}

// The report of a dump opened with `options` (its vmlinux and modules).
inline frontends::triage::TriageReport triage_report(const ProgramOptions& options, const std::string& what) {
  auto program = open_program(options, what);
  return frontends::triage::build_report(*program, all_sections());
}

inline frontends::triage::TriageReport triage_report(const DumpCase& dump) {
  return triage_report(program_options(dump), dump.id);
}

// The report of the dump's files alone.
inline frontends::triage::TriageReport triage_report_without_vmlinux(const std::vector<std::string>& files,
                                                                     const std::string& what) {
  auto report = frontends::triage::build_report_without_vmlinux(files, all_sections());
  if (!report) FAIL(what << ": no report without vmlinux: " << report.error().message());
  return std::move(*report);
}

// What the dying kernel printed as its panic or oops line (facts.json).
inline std::string expected_panic_line(const DumpCase& dump) {
  const nlohmann::json& facts = dump.facts();
  if (facts["oops_message"].is_string()) return facts["oops_message"];
  return "Kernel panic - not syncing: " + facts["panic_message"].get<std::string>();
}

}  // namespace coroner::test
