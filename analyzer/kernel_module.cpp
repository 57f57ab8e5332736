#include "analyzer/kernel_module.hpp"

#include "symbols/elf_file.hpp"

#include <algorithm>
#include <cctype>
#include <tuple>

namespace coroner {

namespace {

// Global symbols before local ones of the same name, functions and objects
// before labels.
int rank(const symbols::Symbol& symbol) {
  int value = std::islower(static_cast<unsigned char>(symbol.type)) ? 2 : 0;
  if (!symbol.is_function && !symbol.is_object) value += 1;
  return value;
}

Expected<bool> has_debug_info_section(const std::string& path) {
  CORONER_TRY(binary, symbols::open_elf(path));
  for (const llvm::object::SectionRef& section : binary.getBinary()->sections()) {
    auto name = section.getName();
    if (!name) return make_error(Errc::corrupt, "{}: {}", path, symbols::llvm_message(name.takeError()));
    if (*name == ".debug_info" && section.getSize() > 0) return true;
  }
  return false;
}

}  // namespace

bool KernelModule::contains(uint64_t address) const {
  return std::any_of(core.begin(), core.end(), [address](const MemoryRange& r) { return r.contains(address); });
}

Expected<void> KernelModule::attach_object(const std::string& path) {
  auto object_id = symbols::elf_build_id(path);
  if (!object_id && object_id.error().code() != Errc::not_found) return object_id.error();
  const std::string file_id = object_id ? *object_id : std::string();
  if (!build_id.empty() && !file_id.empty() && file_id != build_id)
    return make_error(Errc::invalid_argument, "{}: build-id {} does not match module {} in the dump (build-id {})",
                      path, file_id, name, build_id);
  CORONER_TRY(table, symbols::SymbolTable::from_elf(path));
  if (!table.is_relocatable())
    return make_error(Errc::invalid_argument, "{}: not a kernel module (ELF type is not ET_REL)", path);
  CORONER_TRY(dwarf, has_debug_info_section(path));

  // A .ko's symbol addresses are offsets in their section: place each one at
  // the section's run-time address, and drop those of sections the kernel
  // did not load (.modinfo, discarded .exit.text, ...) or freed once the
  // module was live (.init.*), whose addresses may hold other code now.
  std::vector<symbols::Symbol> placed;
  for (const symbols::Symbol& symbol : table.by_address()) {
    auto section = sections.find(symbol.section);
    if (section == sections.end() || symbol.section.starts_with(".init")) continue;
    if (symbol.name.starts_with("$")) continue;  // ARM mapping symbols ($x, $d) name no code
    symbols::Symbol moved = symbol;
    moved.address += section->second;
    placed.push_back(std::move(moved));
  }
  std::stable_sort(placed.begin(), placed.end(), [](const symbols::Symbol& a, const symbols::Symbol& b) {
    return std::make_tuple(a.address, rank(a)) < std::make_tuple(b.address, rank(b));
  });
  std::vector<uint32_t> by_name(placed.size());
  for (uint32_t i = 0; i < by_name.size(); ++i) by_name[i] = i;
  std::stable_sort(by_name.begin(), by_name.end(), [&placed](uint32_t a, uint32_t b) {
    return std::make_tuple(std::string_view(placed[a].name), rank(placed[a])) <
           std::make_tuple(std::string_view(placed[b].name), rank(placed[b]));
  });

  std::lock_guard lock(debug_mutex_);
  symbols_ = std::move(placed);
  by_name_ = std::move(by_name);
  object_path_ = path;
  match_ = !build_id.empty() && !file_id.empty() ? ObjectMatch::build_id : ObjectMatch::name_only;
  has_dwarf_ = dwarf;
  debug_info_.reset();
  debug_error_.reset();
  problem.clear();
  return {};
}

const symbols::Symbol* KernelModule::find_symbol(std::string_view wanted) const {
  auto it = std::lower_bound(by_name_.begin(), by_name_.end(), wanted,
                             [this](uint32_t index, std::string_view key) { return symbols_[index].name < key; });
  if (it == by_name_.end() || symbols_[*it].name != wanted) return nullptr;
  return &symbols_[*it];
}

const symbols::Symbol* KernelModule::containing(uint64_t address) const {
  if (!contains(address)) return nullptr;
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                             [](uint64_t key, const symbols::Symbol& s) { return key < s.address; });
  // Symbols of freed init sections may lie below core memory: only a symbol
  // inside core memory names an address there.
  while (it != symbols_.begin()) {
    --it;
    if (!contains(it->address)) return nullptr;
    if (!symbols::is_text_or_data(it->type)) continue;
    while (it != symbols_.begin() && std::prev(it)->address == it->address &&
           symbols::is_text_or_data(std::prev(it)->type))
      --it;  // the preferred name sorts first among equal addresses
    return &*it;
  }
  return nullptr;
}

Expected<symbols::DebugInfo*> KernelModule::debug_info() const {
  std::lock_guard lock(debug_mutex_);
  if (debug_info_) return debug_info_.get();
  if (debug_error_) return *debug_error_;
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
