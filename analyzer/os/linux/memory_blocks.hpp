// The memory blocks of memory hotplug (CONFIG_MEMORY_HOTPLUG), as the end
// of crash's `kmem -n` shows them: the memory_blocks XArray (5.8+) of
// struct memory_block, each a device "memoryN" over some sections.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct MemoryBlock {
  uint64_t address = 0;  // struct memory_block
  std::string name;      // its device's: "memory0"
  uint64_t start_section = 0;
  uint64_t state = 0;         // MEM_ONLINE, MEM_OFFLINE, ...
  std::optional<int32_t> nid;  // memory_block.nid where the kernel has it
};

struct MemoryBlocks {
  std::vector<MemoryBlock> blocks;  // by block id
  std::optional<uint64_t> block_bytes;  // memory_block_size_probed (x86_64) when set
};

// nullopt on a kernel without memory hotplug (or before the XArray).
Expected<std::optional<MemoryBlocks>> memory_blocks(const Program& program);

// crash's names of the memory block states.
std::string memory_block_state_name(uint64_t state);

}  // namespace coroner::linux_kernel
