#include "symbols/elf_symbols.hpp"

#include "symbols/cache_file.hpp"
#include "symbols/elf_file.hpp"

#include <llvm/BinaryFormat/ELF.h>
#include <llvm/TargetParser/Triple.h>

#include <algorithm>
#include <cctype>
#include <tuple>

namespace coroner::symbols {

namespace {

using llvm::object::ELFSectionRef;
using llvm::object::ELFSymbolRef;
using llvm::object::SymbolRef;

// The nm letter of a defined symbol, from its binding and its section's
// flags; 0 for symbols nm does not list (undefined, files, sections).
char nm_letter(const ELFSymbolRef& symbol, const ELFSectionRef* section) {
  const uint8_t elf_type = symbol.getELFType();
  if (elf_type == llvm::ELF::STT_FILE || elf_type == llvm::ELF::STT_SECTION) return 0;
  auto flags = symbol.getFlags();
  if (!flags) {
    llvm::consumeError(flags.takeError());
    return 0;
  }
  if (*flags & SymbolRef::SF_Undefined) return 0;
  const bool local = symbol.getBinding() == llvm::ELF::STB_LOCAL;
  if (symbol.getBinding() == llvm::ELF::STB_WEAK) return elf_type == llvm::ELF::STT_OBJECT ? 'V' : 'W';
  if (*flags & SymbolRef::SF_Common) return 'C';
  char letter = '?';
  if (*flags & SymbolRef::SF_Absolute || section == nullptr) {
    letter = 'A';
  } else {
    const uint64_t section_flags = section->getFlags();
    if (!(section_flags & llvm::ELF::SHF_ALLOC)) letter = 'N';
    else if (section_flags & llvm::ELF::SHF_EXECINSTR) letter = 'T';
    else if (section->getType() == llvm::ELF::SHT_NOBITS) letter = 'B';
    else if (section_flags & llvm::ELF::SHF_WRITE) letter = 'D';
    else letter = 'R';
  }
  return local ? static_cast<char>(std::tolower(static_cast<unsigned char>(letter))) : letter;
}

// Lower ranks are preferred when several symbols share a name or an address:
// global before local, functions and objects before labels.
int preference(const Symbol& symbol) {
  int rank = 0;
  if (!is_text_or_data(symbol.type)) rank += 4;
  if (std::islower(static_cast<unsigned char>(symbol.type))) rank += 2;
  if (!symbol.is_function && !symbol.is_object) rank += 1;
  return rank;
}

void sort_by_address(std::vector<Symbol>& symbols) {
  std::stable_sort(symbols.begin(), symbols.end(), [](const Symbol& a, const Symbol& b) {
    return std::make_tuple(a.address, preference(a), std::string_view(a.name)) <
           std::make_tuple(b.address, preference(b), std::string_view(b.name));
  });
}

}  // namespace

bool is_text_or_data(char type) {
  switch (type) {
    case 'T': case 't': case 'D': case 'd': case 'B': case 'b':
    case 'R': case 'r': case 'W': case 'w': case 'V': case 'v':
      return true;
    default:
      return false;
  }
}

Expected<SymbolTable> SymbolTable::from_elf(const std::string& path, const std::string& cache_dir, int64_t slide) {
  CORONER_TRY(binary, open_elf(path));
  const auto& elf = as_elf(*binary.getBinary());
  const uint64_t elf_size = binary.getBinary()->getData().size();
  std::string cache;
  if (!cache_dir.empty())
    if (auto id = gnu_build_id(*binary.getBinary())) {
      cache = symbol_cache_path(cache_dir, *id);
      if (auto bytes = read_cache_file(cache))
        if (auto cached = deserialize(*bytes, elf_size)) {
          if (cached->slide_ != slide) cached->relocate(slide - cached->slide_);
          return std::move(*cached);
        }
    }
  SymbolTable table;
  table.relocatable_ = elf.getEType() == llvm::ELF::ET_REL;

  auto symbols = elf.symbols();
  if (symbols.begin() == symbols.end()) symbols = elf.getDynamicSymbolIterators();
  for (const ELFSymbolRef symbol : symbols) {
    auto section_it = symbol.getSection();
    if (!section_it) return make_error(Errc::corrupt, "{}: {}", path, llvm_message(section_it.takeError()));
    std::optional<ELFSectionRef> section;
    if (*section_it != elf.section_end()) section = ELFSectionRef(**section_it);
    const char letter = nm_letter(symbol, section ? &*section : nullptr);
    if (letter == 0) continue;
    auto name = symbol.getName();
    auto address = symbol.getAddress();
    if (!name) return make_error(Errc::corrupt, "{}: {}", path, llvm_message(name.takeError()));
    if (!address) return make_error(Errc::corrupt, "{}: {}", path, llvm_message(address.takeError()));
    if (name->empty()) continue;
    Symbol entry;
    entry.name = name->str();
    entry.address = *address;
    entry.size = symbol.getSize();
    entry.type = letter;
    entry.is_function = symbol.getELFType() == llvm::ELF::STT_FUNC;
    entry.is_object = symbol.getELFType() == llvm::ELF::STT_OBJECT;
    if (section && letter != 'A' && letter != 'a') {
      auto section_name = section->getName();
      if (!section_name) return make_error(Errc::corrupt, "{}: {}", path, llvm_message(section_name.takeError()));
      entry.section = section_name->str();
      // x86_64 links per-CPU data at 0: those "addresses" are offsets.
      if (!table.relocatable_ && entry.section == ".data..percpu" && section->getAddress() == 0)
        table.zero_based_percpu_ = true;
    }
    table.symbols_.push_back(std::move(entry));
  }
  sort_by_address(table.symbols_);
  table.build_name_index();
  if (slide) table.relocate(slide);
  // A cache that cannot be written only costs the next start its time.
  if (!cache.empty()) (void)write_cache_file(cache, {table.serialize(elf_size)});
  return table;
}

void SymbolTable::build_name_index() {
  by_name_.resize(symbols_.size());
  for (uint32_t i = 0; i < by_name_.size(); ++i) by_name_[i] = i;
  std::stable_sort(by_name_.begin(), by_name_.end(), [this](uint32_t a, uint32_t b) {
    const Symbol& x = symbols_[a];
    const Symbol& y = symbols_[b];
    return std::make_tuple(std::string_view(x.name), preference(x)) <
           std::make_tuple(std::string_view(y.name), preference(y));
  });
}

void SymbolTable::relocate(int64_t delta) {
  slide_ += delta;
  // Moved and unmoved symbols each stay in address order: merge the two
  // runs (ties by former position, as the stable sort had them) instead of
  // sorting 100k+ symbols again, and carry the name index over.
  std::vector<uint32_t> moved, fixed;
  for (uint32_t i = 0; i < symbols_.size(); ++i) {
    Symbol& symbol = symbols_[i];
    if (symbol.type == 'A' || symbol.type == 'a' || is_percpu_offset(symbol)) {
      fixed.push_back(i);
    } else {
      symbol.address += static_cast<uint64_t>(delta);
      moved.push_back(i);
    }
  }
  auto key = [this](uint32_t i) {
    const Symbol& s = symbols_[i];
    return std::make_tuple(s.address, preference(s), std::string_view(s.name), i);
  };
  std::vector<uint32_t> order(symbols_.size());
  std::merge(moved.begin(), moved.end(), fixed.begin(), fixed.end(), order.begin(),
             [&](uint32_t a, uint32_t b) { return key(a) < key(b); });
  std::vector<uint32_t> position(symbols_.size());
  std::vector<Symbol> sorted;
  sorted.reserve(symbols_.size());
  for (uint32_t i : order) {
    position[i] = static_cast<uint32_t>(sorted.size());
    sorted.push_back(std::move(symbols_[i]));
  }
  symbols_ = std::move(sorted);
  // Names did not change; equal (name, preference) runs are ordered by
  // position, as build_name_index() orders them.
  for (uint32_t& index : by_name_) index = position[index];
  auto same_name = [this](uint32_t a, uint32_t b) {
    return symbols_[a].name == symbols_[b].name && preference(symbols_[a]) == preference(symbols_[b]);
  };
  for (size_t begin = 0; begin < by_name_.size();) {
    size_t end = begin + 1;
    while (end < by_name_.size() && same_name(by_name_[begin], by_name_[end])) ++end;
    if (end - begin > 1) std::sort(by_name_.begin() + begin, by_name_.begin() + end);
    begin = end;
  }
}

SymbolTable SymbolTable::from_symbols(std::vector<Symbol> symbols) {
  SymbolTable table;
  table.symbols_ = std::move(symbols);
  sort_by_address(table.symbols_);
  table.build_name_index();
  return table;
}

Expected<void> SymbolTable::place_sections(const SectionAddresses& sections) {
  if (!relocatable_) return make_error(Errc::invalid_argument, "symbols of a linked file have no sections to place");
  std::vector<Symbol> placed;
  for (Symbol& symbol : symbols_) {
    auto section = sections.find(symbol.section);
    if (section == sections.end() || symbol.name.starts_with("$")) continue;
    symbol.address += section->second;
    placed.push_back(std::move(symbol));
  }
  symbols_ = std::move(placed);
  sort_by_address(symbols_);
  build_name_index();
  return {};
}

const Symbol* SymbolTable::find(std::string_view name) const {
  auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                             [this](uint32_t index, std::string_view key) { return symbols_[index].name < key; });
  if (it == by_name_.end() || symbols_[*it].name != name) return nullptr;
  return &symbols_[*it];
}

const Symbol* SymbolTable::containing(uint64_t address) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                             [](uint64_t key, const Symbol& symbol) { return key < symbol.address; });
  // Walk back to the nearest address holding a text/data symbol, then to the
  // most preferred symbol at that address (sorted first among equals).
  while (it != symbols_.begin()) {
    --it;
    if (!is_text_or_data(it->type) || is_percpu_offset(*it)) continue;
    const Symbol* best = &*it;
    for (auto back = it; back->address == it->address; --back) {
      if (is_text_or_data(back->type) && !is_percpu_offset(*back)) best = &*back;
      if (back == symbols_.begin()) break;
    }
    return best;
  }
  return nullptr;
}

std::vector<const Symbol*> SymbolTable::search(std::string_view substring) const {
  std::vector<const Symbol*> found;
  for (const Symbol& symbol : symbols_)
    if (symbol.name.find(substring) != std::string::npos) found.push_back(&symbol);
  return found;
}

Expected<std::string> elf_build_id(const std::string& path) {
  CORONER_TRY(binary, open_elf(path));
  auto id = gnu_build_id(*binary.getBinary());
  if (!id) return make_error(Errc::not_found, "{}: no GNU build-id note", path);
  return *id;
}

Expected<std::string> elf_machine(const std::string& path) {
  CORONER_TRY(binary, open_elf(path));
  const llvm::Triple::ArchType arch = binary.getBinary()->getArch();
  if (arch == llvm::Triple::UnknownArch)
    return make_error(Errc::unsupported, "{}: unknown ELF machine {}", path, as_elf(*binary.getBinary()).getEMachine());
  return llvm::Triple::getArchTypeName(arch).str();
}

}  // namespace coroner::symbols
