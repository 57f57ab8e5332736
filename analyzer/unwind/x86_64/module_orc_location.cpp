#include "analyzer/unwind/x86_64/module_orc_location.hpp"

#include <algorithm>
#include <vector>

namespace coroner::unwind {
namespace {

constexpr uint64_t kIpSize = 4;     // s32
constexpr uint64_t kEntrySize = 6;  // struct orc_entry

// The core range of module that holds [address, address + size), if one does.
const MemoryRange* range_holding(const KernelModule& module, uint64_t address, uint64_t size) {
  for (const MemoryRange& range : module.core)
    if (range.contains(address) && size <= range.size - (address - range.start)) return &range;
  return nullptr;
}

// Whether the candidate's ips look like a module's loaded ORC table: the
// kernel sorted them when it loaded the module (unwind_module_init), and
// they cover its code -- in core memory, or in init text, which is freed.
bool looks_like_orc_ips(const KernelMemory& memory, const KernelModule& module, const ModuleOrcLocation& candidate) {
  std::vector<int32_t> offsets(candidate.count);
  if (!memory.read(candidate.ips, std::as_writable_bytes(std::span(offsets)))) return false;
  uint64_t previous = 0;
  bool into_core = false;
  for (uint64_t i = 0; i < offsets.size(); ++i) {
    const uint64_t ip = candidate.ips + i * kIpSize + static_cast<uint64_t>(static_cast<int64_t>(offsets[i]));
    if (ip < previous) return false;
    previous = ip;
    into_core = into_core || module.contains(ip);
  }
  return into_core;
}

}  // namespace

Expected<ModuleOrcLocation> typed_module_orc_location(const Program& program, const KernelModule& module) {
  CORONER_TRY(count_offset, program.member_offset("struct module", "arch.num_orcs"));
  CORONER_TRY(ips_offset, program.member_offset("struct module", "arch.orc_unwind_ip"));
  CORONER_TRY(entries_offset, program.member_offset("struct module", "arch.orc_unwind"));
  const KernelMemory& memory = program.memory();
  CORONER_TRY(count, memory.read_u32(module.struct_address + count_offset));
  CORONER_TRY(ips, memory.read_u64(module.struct_address + ips_offset));
  CORONER_TRY(entries, memory.read_u64(module.struct_address + entries_offset));
  return ModuleOrcLocation{count, ips, entries};
}

Expected<ModuleOrcLocation> module_orc_location_by_shape(const KernelMemory& memory, const KernelModule& module) {
  const std::string where = fmt::format("module {} (struct module at {:#x})", module.name, module.struct_address);
  // struct module is the module's .gnu.linkonce.this_module: in its memory.
  const MemoryRange* home = range_holding(module, module.struct_address, 1);
  if (!home) return make_error(Errc::corrupt, "{}: not in the module's memory", where);
  const uint64_t size = std::min(kStructModuleScan, home->size - (module.struct_address - home->start)) & ~uint64_t{7};
  std::vector<uint64_t> words(size / 8);
  if (auto read = memory.read(module.struct_address, std::as_writable_bytes(std::span(words))); !read)
    return read.error().context(where);

  std::vector<std::pair<uint64_t, ModuleOrcLocation>> found;  // by offset in struct module
  for (size_t i = 0; i + 2 < words.size(); ++i) {
    if (words[i] == 0 || words[i] > module.size || words[i] >> 32 != 0) continue;
    const ModuleOrcLocation candidate{static_cast<uint32_t>(words[i]), words[i + 1], words[i + 2]};
    if (!range_holding(module, candidate.ips, candidate.count * kIpSize) ||
        !range_holding(module, candidate.entries, candidate.count * kEntrySize))
      continue;
    if (looks_like_orc_ips(memory, module, candidate)) found.emplace_back(i * 8, candidate);
  }
  if (found.empty()) return make_error(Errc::not_found, "{}: no ORC table found in struct module", where);
  if (found.size() > 1)
    return make_error(Errc::corrupt, "{}: {} places in struct module look like its ORC table (offsets {:#x}, {:#x})",
                      where, found.size(), found[0].first, found[1].first);
  return found.front().second;
}

}  // namespace coroner::unwind
