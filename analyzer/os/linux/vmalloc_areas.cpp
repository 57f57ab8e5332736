#include "analyzer/os/linux/vmalloc_areas.hpp"

#include "analyzer/os/linux/kernel_trees.hpp"

namespace coroner::linux_kernel {

Expected<std::vector<VmallocArea>> vmalloc_areas(const Program& program) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(root, program.symbol_address("vmap_area_root"));
  CORONER_TRY(layout, rbtree_layout(program));
  CORONER_TRY(node_offset, program.member_offset("struct vmap_area", "rb_node"));
  CORONER_TRY(vm_offset, program.member_offset("struct vmap_area", "vm"));
  CORONER_TRY(addr_offset, program.member_offset("struct vm_struct", "addr"));
  CORONER_TRY(size_offset, program.member_offset("struct vm_struct", "size"));
  CORONER_TRY(nodes, walk_rbtree(memory, layout, root, RbOrder::linear));
  std::vector<VmallocArea> areas;
  for (const RbNode& node : nodes) {
    VmallocArea area;
    area.vmap_area = node.address - node_offset;
    CORONER_TRY(vm, memory.read_u64(area.vmap_area + vm_offset));
    if (vm == 0) continue;
    area.vm_struct = vm;
    CORONER_TRY(start, memory.read_u64(vm + addr_offset));
    CORONER_TRY(size, memory.read_u64(vm + size_offset));
    area.start = start, area.size = size;
    areas.push_back(area);
  }
  return areas;
}

Expected<std::optional<VmallocArea>> vmalloc_area_of(const Program& program, uint64_t address) {
  CORONER_TRY(areas, vmalloc_areas(program));
  for (const VmallocArea& area : areas)
    if (address >= area.start && address < area.end()) return std::optional<VmallocArea>(area);
  return std::optional<VmallocArea>();
}

}  // namespace coroner::linux_kernel
