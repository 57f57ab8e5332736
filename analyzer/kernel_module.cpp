#include "analyzer/kernel_module.hpp"

#include "symbols/elf_file.hpp"

#include <algorithm>

namespace coroner {

bool KernelModule::contains(uint64_t address) const {
  return std::any_of(core.begin(), core.end(), [address](const MemoryRange& r) { return r.contains(address); });
}

Expected<void> KernelModule::attach_object(const std::string& path) {
  // One open serves the build-id, the symbols and the .debug_info question.
  CORONER_TRY(binary, symbols::open_elf(path));
  const llvm::object::ObjectFile& object = *binary.getBinary();
  const std::string file_id = symbols::gnu_build_id(object).value_or("");
  if (!build_id.empty() && !file_id.empty() && file_id != build_id)
    return make_error(Errc::invalid_argument, "{}: build-id {} does not match module {} in the dump (build-id {})",
                      path, file_id, name, build_id);
  // Checked on the open object: a vmlinux given by mistake is refused
  // before its symbol table is read.
  if (symbols::as_elf(object).getEType() != llvm::ELF::ET_REL)
    return make_error(Errc::invalid_argument, "{}: not a kernel module (ELF type is not ET_REL)", path);
  CORONER_TRY(table, symbols::SymbolTable::from_object(object, path));
  auto debug_info = symbols::find_section(object, ".debug_info");
  const bool dwarf = debug_info && debug_info->getSize() > 0;

  // Symbols of sections the kernel did not load (.modinfo, discarded
  // .exit.text, ...) are dropped by place_sections(); so are those of the
  // .init.* sections it freed once the module was live, whose addresses may
  // hold other code now.
  symbols::SectionAddresses live = sections;
  std::erase_if(live, [](const auto& section) { return section.first.starts_with(".init"); });
  CORONER_CHECK(table.place_sections(live));

  std::lock_guard lock(debug_mutex_);
  symbols_ = std::move(table);
  object_path_ = path;
  match_ = !build_id.empty() && !file_id.empty() ? ObjectMatch::build_id : ObjectMatch::name_only;
  has_dwarf_ = dwarf;
  debug_info_.reset();
  debug_error_.reset();
  problem.clear();
  return {};
}

const symbols::Symbol* KernelModule::find_symbol(std::string_view wanted) const { return symbols_.find(wanted); }

const symbols::Symbol* KernelModule::containing(uint64_t address) const {
  if (!contains(address)) return nullptr;
  const std::vector<symbols::Symbol>& sorted = symbols_.by_address();
  auto it = std::upper_bound(sorted.begin(), sorted.end(), address,
                             [](uint64_t key, const symbols::Symbol& s) { return key < s.address; });
  // Symbols of freed init sections may lie below core memory: only a symbol
  // inside core memory names an address there.
  while (it != sorted.begin()) {
    --it;
    if (!contains(it->address)) return nullptr;
    if (!symbols::is_text_or_data(it->type)) continue;
    while (it != sorted.begin() && std::prev(it)->address == it->address &&
           symbols::is_text_or_data(std::prev(it)->type))
      --it;  // the preferred name sorts first among equal addresses
    return &*it;
  }
  return nullptr;
}

void KernelModule::use_memory_btf(std::vector<std::byte> bytes, const symbols::DebugInfo& base,
                                  std::string description) {
  std::lock_guard lock(debug_mutex_);
  btf_ = std::move(bytes);
  btf_base_ = &base;
  btf_description_ = std::move(description);
}

Expected<symbols::DebugInfo*> KernelModule::debug_info() const {
  std::lock_guard lock(debug_mutex_);
  if (debug_info_) return debug_info_.get();
  if (debug_error_) return *debug_error_;
  if (object_path_.empty() && btf_base_) {
    auto opened = symbols::DebugInfo::open_split_btf(*btf_base_, std::move(btf_), btf_description_);
    if (!opened) debug_error_ = opened.error();
    else debug_info_ = std::move(*opened);
    if (debug_error_) return *debug_error_;
    return debug_info_.get();
  }
  if (object_path_.empty())
    return make_error(Errc::not_found, "module {}: no object file loaded{}{}", name, problem.empty() ? "" : " (",
                      problem.empty() ? "" : problem + ")");
  auto opened = symbols::DebugInfo::open(object_path_, cache_dir, &sections);
  if (!opened) {
    debug_error_ = opened.error();
    return *debug_error_;
  }
  debug_info_ = std::move(*opened);
  return debug_info_.get();
}

}  // namespace coroner
