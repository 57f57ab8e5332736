// Without DWARF or BTF: the layouts of the structures the Linux model reads
// (tasks, memory maps, modules, the system's clock, nodes and name), found
// in the dump's memory and VMCOREINFO, as the Linux model's inferred types
// (LinuxKernel::infer_types). Each layout holds only the members found,
// and a member is placed only when every task, module or memory map tested
// agrees (README "Without a vmlinux" lists what is inferred and how).
#pragma once

#include "analyzer/program.hpp"
#include "symbols/synthetic_btf.hpp"

namespace coroner::linux_kernel::inference {

struct InferredLayouts {
  std::vector<symbols::SyntheticStruct> layouts;
  // The parts left out, each with why: "task_struct: ..." when the task
  // list could not be found (then the memory maps too), "module: ...".
  std::vector<std::string> missing;
};

// What can be inferred of each part; a part that cannot be is left out, not
// failed: the modules need no task, the clock and node layouts neither.
InferredLayouts infer_kernel_layouts(const Program& program);

}  // namespace coroner::linux_kernel::inference
