// What crash's `mach` shows about the dumped machine: its type, memory,
// CPUs, clock rates and page size, and where the kernel's address-space
// regions begin (linear map, vmalloc, vmemmap, kernel image, modules) as
// this kernel placed them (x86_64 KASLR randomizes the first three: the
// kernel's page_offset_base, vmalloc_base, vmemmap_base; arm64 exports its
// regions in VMCOREINFO). Best effort: what cannot be read is left empty
// with the reason in `problems`.
#pragma once

#include "analyzer/program.hpp"

#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct MachineInfo {
  std::string machine;                // utsname machine: "x86_64", "aarch64"
  uint64_t memory_bytes = 0;          // as sys counts it
  size_t cpus = 0;                    // present CPUs
  std::optional<uint64_t> cpu_mhz;    // x86_64 cpu_khz / 1000
  std::optional<uint64_t> hz;         // tick_rate()
  uint64_t page_size = 0;
  std::optional<uint64_t> kernel_virtual_base, vmalloc_base, vmemmap_base, kernel_start_map, modules_base;
  std::optional<uint64_t> kernel_stack_size;  // THREAD_SIZE: the init task's stack
  std::vector<std::string> problems;
};
MachineInfo read_machine_info(const Program& program);

// The kernel virtual address of physical address 0 in the linear map:
// the architecture's (arm64), else x86_64's page_offset_base.
Expected<uint64_t> linear_map_base(const Program& program);

// One entry of the firmware's memory map as x86_64 keeps it (e820_table,
// a pointer since 4.12): [start, end) and its E820 type.
struct FirmwareMemoryRange {
  uint64_t start = 0, end = 0;
  uint32_t type = 0;  // E820_TYPE_RAM 1, RESERVED 2, ACPI 3, NVS 4, UNUSABLE 5, PRAM 12, ...
};
Expected<std::vector<FirmwareMemoryRange>> e820_memory_map(const Program& program);

}  // namespace coroner::linux_kernel
