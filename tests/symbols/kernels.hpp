// One DumpCase per fixture kernel (x86_64, arm64, arm64-16k): the symbol
// tests look at each vmlinux once, not once per dump.
#pragma once

#include "tests/support/fixtures.hpp"

#include <set>
#include <vector>

namespace coroner::test {

inline std::vector<const DumpCase*> one_case_per_kernel() {
  std::vector<const DumpCase*> kernels;
  std::set<std::string> seen;
  for (const DumpCase& c : all_dumps())
    if (seen.insert(c.arch_dir).second) kernels.push_back(&c);
  return kernels;
}

}  // namespace coroner::test
