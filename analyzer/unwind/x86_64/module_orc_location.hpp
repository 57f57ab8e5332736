// Where the dumped kernel keeps a module's ORC tables: struct module's
// arch (struct mod_arch_specific: num_orcs, orc_unwind_ip, orc_unwind),
// located by the kernel's types, or -- in a session without them (no
// vmlinux, no BTF) -- by its shape.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>

namespace coroner::unwind {

struct ModuleOrcLocation {
  uint32_t count = 0;    // arch.num_orcs
  uint64_t ips = 0;      // arch.orc_unwind_ip: count s32, each relative to its own address
  uint64_t entries = 0;  // arch.orc_unwind: count struct orc_entry
  bool operator==(const ModuleOrcLocation&) const = default;
};

// From the members' offsets in the kernel's types; an error without them.
Expected<ModuleOrcLocation> typed_module_orc_location(const Program& program, const KernelModule& module);

// Without types: the one place in struct module (8-byte aligned, within its
// first kStructModuleScan bytes and its core memory) holding a u32 count
// (its padding zero), then pointers to count ips and count entries inside
// the module's memory, the ips ascending (sorted at load) and some in its
// core memory. None or more than one such place is an error naming the
// module.
inline constexpr uint64_t kStructModuleScan = 4096;
Expected<ModuleOrcLocation> module_orc_location_by_shape(const KernelMemory& memory, const KernelModule& module);

}  // namespace coroner::unwind
