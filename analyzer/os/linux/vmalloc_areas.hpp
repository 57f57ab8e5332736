// The kernel's vmalloc areas (vmalloc, vmap, module memory, vmapped task
// stacks): the vmap_areas of vmap_area_root in address order, each with
// the vm_struct that describes its mapping. Areas without one (vm_map_ram,
// lazily freed areas) are left out, as crash's `kmem -v` does.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace coroner::linux_kernel {

struct VmallocArea {
  uint64_t vmap_area = 0, vm_struct = 0;
  uint64_t start = 0, size = 0;  // vm_struct.addr and .size (a guard page included)
  uint64_t end() const { return start + size; }
};

Expected<std::vector<VmallocArea>> vmalloc_areas(const Program& program);

// The area whose [start, end) holds address; nullopt when none does.
Expected<std::optional<VmallocArea>> vmalloc_area_of(const Program& program, uint64_t address);

}  // namespace coroner::linux_kernel
