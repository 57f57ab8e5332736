// Helpers shared by the coroner-capture tests on the real fixtures: running
// the dumper (in process or as the real executable, whose outputs are cached:
// captured_outputs.hpp), and checking a dump it wrote against its input and
// facts.json.
#pragma once

#include "capture/format/dump.hpp"
#include "tests/capture/captured_outputs.hpp"
#include "tests/support/fixtures.hpp"

#include <memory>
#include <string>
#include <vector>

namespace coroner::test {

// The x86_64 and arm64 oops-kdump vmcores.
std::vector<const DumpCase*> capture_inputs();

// A fresh scratch folder for this test's outputs.
fs::path capture_scratch(const std::string& name);

// Runs coroner-capture's job in this process; returns its exit status.
int capture_in_process(const std::vector<std::string>& args);

// The coroner-capture executable (run_shell of tests/support/fixtures.hpp
// runs it with exit status and output).
std::string capture_executable();

// coroner-capture `options` of `input` (cached, see captured_outputs.hpp).
std::string capture_output(const DumpCase& input, const std::vector<std::string>& options);


// "" when the files hold the same bytes, else their sizes and the offset
// of the first byte that differs (a message a failed check can print).
std::string byte_difference(const fs::path& a, const fs::path& b);

std::unique_ptr<Dump> open_or_fail(const std::vector<std::string>& files);

// Notes and VMCOREINFO of `out` equal those of `in`.
void check_same_metadata(const Dump& in, const Dump& out);
// Every page `out` holds reads back identical to `in`; returns how many.
uint64_t check_pages_identical(const Dump& in, const Dump& out);
// facts.json's memory_samples read from `dump` have the recorded sha256.
void check_memory_samples(const Dump& dump, const DumpCase& c);

}  // namespace coroner::test
