// Why the kernel counts itself tainted: tainted_mask and the letters of
// taint_flags[], what crash's `sys -t` shows and its KERNEL line's
// [TAINTED] tells.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct TaintFlag {
  unsigned bit = 0;
  char letter = 0;   // taint_flag.c_true
  std::string name;  // the kernel's TAINT_* name of the bit ("" past the known ones)
};

struct KernelTaint {
  uint64_t mask = 0;  // tainted_mask
  // crash's letters: for each entry of taint_flags[], c_true when its bit is
  // set, else c_false unless that is ' ', '-' or 'G' ("O" for an
  // out-of-tree module; "PO" for a proprietary one).
  std::string letters;
  std::vector<TaintFlag> set;  // the bits of mask, lowest first
};

// tainted_mask with taint_flags[] (struct taint_flag of 4.10+, indexed by
// bit) or tnts[] (struct tnt before 4.10, which names its bit); their
// letters are c_true/c_false, `true`/`false` in kernels before `true` was a
// C keyword. The error names what is missing.
Expected<KernelTaint> read_kernel_taint(const Program& program);

}  // namespace coroner::linux_kernel
