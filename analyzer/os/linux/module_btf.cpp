#include "analyzer/os/linux/module_btf.hpp"

#include "analyzer/os/linux/list_walk.hpp"

#include <unordered_map>

namespace coroner::linux_kernel {

namespace {

constexpr size_t kMaxModules = 65536;
constexpr uint32_t kMaxModuleBtf = 64u << 20;  // far more than any module's types

}  // namespace

Expected<void> attach_module_btf(const Program& program, const KernelModules& modules) {
  CORONER_TRY(info, program.debug_info());
  const symbols::Symbol* head = program.symbols().find("btf_modules");
  // No list: a kernel without module BTF, or kallsyms without data symbols
  // (the modules then have no types, and `mod` says "symbols from memory").
  if (!head) return {};
  CORONER_TRY(link, info->member_offset("struct btf_module", "list"));
  CORONER_TRY(owner_at, info->member_offset("struct btf_module", "module"));
  CORONER_TRY(btf_at, info->member_offset("struct btf_module", "btf"));
  CORONER_TRY(data_at, info->member_offset("struct btf", "data"));
  CORONER_TRY(size_at, info->member_offset("struct btf", "data_size"));
  std::unordered_map<uint64_t, KernelModule*> without_object;
  for (const auto& module : modules)
    if (module->object_path().empty()) without_object[module->struct_address] = module.get();
  const KernelMemory& memory = program.memory();
  ListBudget budget{kMaxModules};
  return walk_list(memory, "btf_modules", head->address, link, budget, [&](uint64_t entry) -> Expected<void> {
    CORONER_TRY(owner, memory.read_u64(entry + owner_at));
    auto module = without_object.find(owner);
    if (module == without_object.end()) return {};
    CORONER_TRY(btf, memory.read_u64(entry + btf_at));
    CORONER_TRY(data, memory.read_u64(btf + data_at));
    CORONER_TRY(size, memory.read_u32(btf + size_at));
    if (size == 0 || size > kMaxModuleBtf)
      return make_error(Errc::corrupt, "module {}: struct btf at {:#x} holds {} bytes", module->second->name, btf, size);
    std::vector<std::byte> bytes(size);
    if (auto read = memory.read(data, bytes); !read)
      return read.error().context(fmt::format("module {}: its BTF at {:#x}", module->second->name, data));
    module->second->use_memory_btf(std::move(bytes), *info,
                                   fmt::format("module {}: BTF at {:#x}", module->second->name, data));
    return {};
  });
}

}  // namespace coroner::linux_kernel
