#include "analyzer/os/linux/memory_blocks.hpp"

#include "analyzer/os/linux/kernel_trees.hpp"

namespace coroner::linux_kernel {

namespace {

constexpr size_t kMaxMemoryBlocks = size_t{1} << 22;

}  // namespace

std::string memory_block_state_name(uint64_t state) {
  switch (state) {  // include/linux/memory.h
    case 1: return "ONLINE";
    case 2: return "GOING_OFFLINE";
    case 4: return "OFFLINE";
    case 8: return "GOING_ONLINE";
    case 16: return "CANCEL_ONLINE";
    case 32: return "CANCEL_OFFLINE";
    default: return "UNKNOWN";
  }
}

Expected<std::optional<MemoryBlocks>> memory_blocks(const Program& program) {
  auto root = program.kernel_symbol_address("memory_blocks");
  if (!root || !program.type_size("struct memory_block")) return std::optional<MemoryBlocks>();
  const KernelMemory& memory = program.memory();
  CORONER_TRY(start, program.member_offset("struct memory_block", "start_section_nr"));
  CORONER_TRY(state, program.member_offset("struct memory_block", "state"));
  CORONER_TRY(name, program.member_offset("struct memory_block", "dev.kobj.name"));
  auto nid = program.member_offset("struct memory_block", "nid");
  CORONER_TRY(layout, xarray_layout(program));
  CORONER_TRY(entries, walk_xarray(memory, layout, *root, kMaxMemoryBlocks));
  MemoryBlocks result;
  if (auto probed = program.kernel_symbol_address("memory_block_size_probed"))
    if (auto bytes = memory.read_u64(*probed); bytes && *bytes) result.block_bytes = *bytes;
  for (const IndexedEntry& entry : entries) {
    MemoryBlock block;
    block.address = entry.value;
    CORONER_TRY(first, memory.read_u64(block.address + start));
    CORONER_TRY(state_value, memory.read_u64(block.address + state));
    CORONER_TRY(name_pointer, memory.read_u64(block.address + name));
    block.start_section = first, block.state = state_value;
    block.name = memory.read_string(name_pointer, 64).value_or("");
    if (nid) {
      CORONER_TRY(node, memory.read_u32(block.address + *nid));
      block.nid = static_cast<int32_t>(node);
    }
    result.blocks.push_back(std::move(block));
  }
  return std::optional<MemoryBlocks>(std::move(result));
}

}  // namespace coroner::linux_kernel
