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

// The error says which part of the task list could not be found; the
// memory maps and modules are left out, not failed, when they cannot be.
Expected<std::vector<symbols::SyntheticStruct>> infer_kernel_layouts(const Program& program);

}  // namespace coroner::linux_kernel::inference
