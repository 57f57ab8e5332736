// struct module, found in the loaded modules' memory: state, list and name
// lead it (2.6 to 6.x); the module's core memory holds it (core_layout,
// before 6.4) or its text's tree node points back at it (mem[], 6.4+); its
// kallsyms copy is what its kallsyms pointer points to.
#pragma once

#include "analyzer/os/linux/layout_inference/memory_probe.hpp"
#include "symbols/synthetic_btf.hpp"

namespace coroner::linux_kernel::inference {

// Empty when no module is loaded (the structs are then never read).
Expected<std::vector<symbols::SyntheticStruct>> infer_module_layouts(const MemoryProbe& probe);

}  // namespace coroner::linux_kernel::inference
