#include "symbols/elf_symbols.hpp"

#include "symbols/cache_file.hpp"
#include "symbols/elf_file.hpp"
#include "symbols/large_buffer.hpp"

#include <llvm/BinaryFormat/ELF.h>
#include <llvm/TargetParser/Triple.h>

#include <algorithm>
#include <functional>
#include <tuple>
#include <utility>

namespace coroner::symbols {

namespace {

// Lower ranks are preferred when several symbols share a name or an address:
// global before local, functions and objects before labels.
uint8_t preference(char type, bool is_function, bool is_object) {
  uint8_t rank = 0;
  if (!is_text_or_data(type)) rank += 4;
  if (type >= 'a' && type <= 'z') rank += 2;  // nm's letters of local symbols
  if (!is_function && !is_object) rank += 1;
  return rank;
}
uint8_t preference(const Symbol& symbol) { return preference(symbol.type, symbol.is_function, symbol.is_object); }

// One symbol as read from the ELF file, before the table is sorted: its
// name still in the file's string table, its section an index into
// ElfSymbols::sections.
struct ElfSymbol {
  uint64_t address;
  uint64_t size;
  std::string_view name;
  uint32_t section;  // kNoSection: absolute or common
  char type;
  bool is_function;
  bool is_object;
};
constexpr uint32_t kNoSection = UINT32_MAX;

struct ElfSymbols {
  std::vector<ElfSymbol> symbols;
  std::vector<std::string> sections;  // names of the sections that hold symbols
  bool zero_based_percpu = false;     // some are in .data..percpu linked at 0 (x86_64)
};

// The nm letter of a section's global symbols.
template <class ELFT>
char section_letter(const typename ELFT::Shdr& section) {
  if (!(section.sh_flags & llvm::ELF::SHF_ALLOC)) return 'N';
  if (section.sh_flags & llvm::ELF::SHF_EXECINSTR) return 'T';
  if (section.sh_type == llvm::ELF::SHT_NOBITS) return 'B';
  if (section.sh_flags & llvm::ELF::SHF_WRITE) return 'D';
  return 'R';
}

// The symbols of an ELF file's symbol table (.symtab, else .dynsym) in file
// order, those nm lists (defined, named, not files or sections), with the
// letters nm gives them and the addresses LLVM's ELFObjectFile gives them.
// Reads the raw ELF structures: LLVM's per-symbol accessors, each returning
// an Expected, cost most of a large kernel's load.
template <class ELFT>
Expected<ElfSymbols> read_elf_symbols(const llvm::object::ELFFile<ELFT>& file, const std::string& path) {
  using Shdr = typename ELFT::Shdr;
  auto fail = [&path](llvm::Error error) { return make_error(Errc::corrupt, "{}: {}", path, llvm_message(std::move(error))); };
  auto sections = file.sections();
  if (!sections) return fail(sections.takeError());
  ElfSymbols out;
  const Shdr* table = nullptr;
  for (uint32_t type : {llvm::ELF::SHT_SYMTAB, llvm::ELF::SHT_DYNSYM}) {
    auto first = std::find_if(sections->begin(), sections->end(), [type](const Shdr& s) { return s.sh_type == type; });
    // Entry 0 is the null symbol: a table without another counts as none.
    if (first != sections->end() && first->sh_size / sizeof(typename ELFT::Sym) > 1) {
      table = &*first;
      break;
    }
  }
  if (!table) return out;
  auto entries = file.symbols(table);
  if (!entries) return fail(entries.takeError());
  auto strings = file.getStringTableForSymtab(*table, *sections);
  if (!strings) return fail(strings.takeError());
  auto section_names = file.getSectionStringTable(*sections);
  if (!section_names) return fail(section_names.takeError());
  // Section indexes from SHN_LORESERVE up are in the SHT_SYMTAB_SHNDX table.
  llvm::ArrayRef<typename ELFT::Word> extended;
  for (const Shdr& section : *sections)
    if (section.sh_type == llvm::ELF::SHT_SYMTAB_SHNDX) {
      auto words = file.getSHNDXTable(section, *sections);
      if (!words) return fail(words.takeError());
      extended = *words;
      break;
    }
  const bool relocatable = file.getHeader().e_type == llvm::ELF::ET_REL;
  const uint16_t machine = file.getHeader().e_machine;
  const bool thumb_bit = machine == llvm::ELF::EM_ARM || machine == llvm::ELF::EM_MIPS;
  // Per section index, filled on its first symbol: its entry in
  // out.sections (kNoSection: not yet), its nm letter, and whether it is
  // per-CPU data linked at 0.
  std::vector<uint32_t> section_ids(sections->size(), kNoSection);
  std::vector<char> section_letters(sections->size());
  std::vector<bool> percpu_at_zero(sections->size());

  out.symbols.reserve(entries->size());
  for (size_t i = 1; i < entries->size(); ++i) {
    const typename ELFT::Sym& entry = (*entries)[i];
    const uint16_t shndx = entry.st_shndx;
    uint32_t index = shndx;
    if (shndx == llvm::ELF::SHN_XINDEX) {
      if (i >= extended.size())
        return make_error(Errc::corrupt, "{}: symbol {} has an extended section index but no SHT_SYMTAB_SHNDX entry",
                          path, i);
      index = extended[i];
    } else if (shndx == llvm::ELF::SHN_UNDEF || shndx >= llvm::ELF::SHN_LORESERVE) {
      index = 0;
    }
    if (index >= sections->size())
      return make_error(Errc::corrupt, "{}: symbol {} is in section {}, past the file's {} sections", path, i, index,
                        sections->size());
    const uint8_t type = entry.getType();
    if (type == llvm::ELF::STT_FILE || type == llvm::ELF::STT_SECTION || shndx == llvm::ELF::SHN_UNDEF) continue;
    if (index != 0 && section_ids[index] == kNoSection) {
      const Shdr& header = (*sections)[index];
      auto name = file.getSectionName(header, *section_names);
      if (!name) return fail(name.takeError());
      section_ids[index] = static_cast<uint32_t>(out.sections.size());
      out.sections.push_back(name->str());
      section_letters[index] = section_letter<ELFT>(header);
      percpu_at_zero[index] = !relocatable && *name == ".data..percpu" && header.sh_addr == 0;
    }
    const bool common = type == llvm::ELF::STT_COMMON || shndx == llvm::ELF::SHN_COMMON;
    char letter = 'A';
    if (entry.getBinding() == llvm::ELF::STB_WEAK) letter = type == llvm::ELF::STT_OBJECT ? 'V' : 'W';
    else if (common) letter = 'C';
    else if (index != 0) letter = section_letters[index];
    if (entry.getBinding() == llvm::ELF::STB_LOCAL && letter != 'C') letter = static_cast<char>(letter - 'A' + 'a');

    if (entry.st_name >= strings->size())
      return make_error(Errc::corrupt, "{}: symbol {} has its name at offset {}, past its {}-byte string table", path,
                        i, entry.st_name, strings->size());
    const std::string_view name(strings->data() + entry.st_name);  // LLVM checked that the table ends in NUL
    if (name.empty()) continue;
    // As LLVM's getSymbolAddress: a common symbol's "value" is its size; ARM
    // and MIPS mark Thumb/microMIPS functions in bit 0; a module's symbol is
    // an offset in its section (whose sh_addr is 0 unless set).
    uint64_t address = common ? entry.st_size : entry.st_value;
    if (thumb_bit && !common && shndx != llvm::ELF::SHN_ABS && type == llvm::ELF::STT_FUNC) address &= ~uint64_t{1};
    if (relocatable && index != 0 && shndx != llvm::ELF::SHN_COMMON) address += (*sections)[index].sh_addr;
    uint32_t section = index != 0 ? section_ids[index] : kNoSection;
    if (index != 0 && percpu_at_zero[index]) {
      out.zero_based_percpu = true;
      // The linker script's __per_cpu_load and __init_begin sit in x86_64's
      // .data..percpu at their kernel address, not at an offset into it:
      // KASLR moves them (as the kernel's kallsyms shows), so no section.
      if (static_cast<int64_t>(address) < 0) section = kNoSection;
    }
    out.symbols.push_back({address, entry.st_size, name, section, letter, type == llvm::ELF::STT_FUNC,
                           type == llvm::ELF::STT_OBJECT});
  }
  return out;
}

Expected<ElfSymbols> read_elf_symbols(const llvm::object::ObjectFile& object, const std::string& path) {
  using namespace llvm::object;
  if (auto* elf = llvm::dyn_cast<ELF64LEObjectFile>(&object)) return read_elf_symbols(elf->getELFFile(), path);
  if (auto* elf = llvm::dyn_cast<ELF64BEObjectFile>(&object)) return read_elf_symbols(elf->getELFFile(), path);
  if (auto* elf = llvm::dyn_cast<ELF32LEObjectFile>(&object)) return read_elf_symbols(elf->getELFFile(), path);
  if (auto* elf = llvm::dyn_cast<ELF32BEObjectFile>(&object)) return read_elf_symbols(elf->getELFFile(), path);
  return make_error(Errc::unsupported, "{}: not an ELF file", path);
}

// What orders a table: address, then preference (rank), then name, then
// the address before a KASLR slide, then the order the symbols came in
// (index). Names and link-time addresses, needed only on ties, are looked up
// by index: the keys stay small.
struct OrderKey {
  uint64_t address;
  uint32_t index;
  uint8_t rank;
};

// Orders keys by address alone, keeping the order of equal ones: an LSD
// radix sort by 16-bit digits, skipping the digits all keys share (most
// kernel addresses share their top bits).
void radix_sort_by_address(std::vector<OrderKey>& keys) {
  std::vector<OrderKey> buffer(keys.size());
  std::vector<uint32_t> counts(1 << 16);
  for (int shift = 0; shift < 64; shift += 16) {
    std::fill(counts.begin(), counts.end(), 0);
    for (const OrderKey& key : keys) ++counts[(key.address >> shift) & 0xffff];
    if (!keys.empty() && counts[(keys[0].address >> shift) & 0xffff] == keys.size()) continue;
    uint32_t start = 0;
    for (uint32_t& count : counts) start += std::exchange(count, start);
    for (const OrderKey& key : keys) buffer[counts[(key.address >> shift) & 0xffff]++] = key;
    keys.swap(buffer);
  }
}

template <typename NameOf, typename LinkAddressOf>
void sort_by_address(std::vector<OrderKey>& keys, NameOf name_of, LinkAddressOf link_address_of) {
  auto rest_before = [&](const OrderKey& a, const OrderKey& b) {
    if (a.rank != b.rank) return a.rank < b.rank;
    if (int order = name_of(a.index).compare(name_of(b.index))) return order < 0;
    return std::pair(link_address_of(a.index), a.index) < std::pair(link_address_of(b.index), b.index);
  };
  // A module's few symbols: not worth the radix sort's 256 KiB of counts.
  if (keys.size() < 8192) {
    std::sort(keys.begin(), keys.end(), [&](const OrderKey& a, const OrderKey& b) {
      return a.address != b.address ? a.address < b.address : rest_before(a, b);
    });
    return;
  }
  radix_sort_by_address(keys);
  // Then each run of equal addresses by the rest of the key.
  for (auto begin = keys.begin(); begin != keys.end();) {
    auto end = begin + 1;
    while (end != keys.end() && end->address == begin->address) ++end;
    if (end - begin > 1) std::sort(begin, end, rest_before);
    begin = end;
  }
}

// The name index's hash (in memory only: never stored).
size_t name_hash(std::string_view name) { return std::hash<std::string_view>{}(name); }

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

Expected<SymbolTable> SymbolTable::from_elf(const std::string& path, const std::string& cache_dir, int64_t slide,
                                            CacheWrite write) {
  CORONER_TRY(binary, open_elf(path));
  return from_object(*binary.getBinary(), path, cache_dir, slide, write);
}

Expected<SymbolTable> SymbolTable::from_object(const llvm::object::ObjectFile& object, const std::string& path,
                                               const std::string& cache_dir, int64_t slide, CacheWrite write) {
  const uint64_t elf_size = object.getData().size();
  // The cache is named and keyed by the build-id.
  const std::optional<std::string> id = cache_dir.empty() ? std::nullopt : gnu_build_id(object);
  const std::string cache = id ? symbol_cache_path(cache_dir, *id) : "";
  if (id)
    if (auto bytes = read_cache_file(cache, *id))
      if (auto cached = deserialize(*bytes, elf_size)) {
        cached->move_addresses(slide - cached->slide_);
        cached->build_name_index();
        return std::move(*cached);
      }
  SymbolTable table;
  table.relocatable_ = as_elf(object).getEType() == llvm::ELF::ET_REL;
  CORONER_TRY(read, read_elf_symbols(object, path));
  table.zero_based_percpu_ = read.zero_based_percpu;
  table.slide_ = slide;
  // Slid before the one sort rather than by relocate() after it, into the
  // order relocate() gives.
  std::vector<OrderKey> keys(read.symbols.size());
  for (uint32_t i = 0; i < keys.size(); ++i) {
    const ElfSymbol& symbol = read.symbols[i];
    const bool percpu = symbol.section != kNoSection && read.sections[symbol.section] == ".data..percpu";
    const bool fixed = symbol.type == 'A' || symbol.type == 'a' || (percpu && table.zero_based_percpu_);
    keys[i] = {symbol.address + (fixed ? 0 : static_cast<uint64_t>(slide)), i,
               preference(symbol.type, symbol.is_function, symbol.is_object)};
  }
  sort_by_address(
      keys, [&](uint32_t i) { return read.symbols[i].name; }, [&](uint32_t i) { return read.symbols[i].address; });
  reserve_large(table.symbols_, keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    // Sorted order visits the read symbols and their names at random:
    // fetch them ahead.
    if (i + 16 < keys.size()) __builtin_prefetch(&read.symbols[keys[i + 16].index]);
    if (i + 8 < keys.size()) __builtin_prefetch(read.symbols[keys[i + 8].index].name.data());
    const ElfSymbol& from = read.symbols[keys[i].index];
    table.symbols_.push_back(Symbol{std::string(from.name), keys[i].address, from.size, from.type,
                                    from.section != kNoSection ? read.sections[from.section] : std::string(),
                                    from.is_function, from.is_object});
  }
  table.build_name_index();
  // A cache that cannot be written only costs the next start its time.
  if (id && write == CacheWrite::yes)
    if (const std::string bytes = table.serialize(elf_size); !bytes.empty()) (void)write_cache_file(cache, *id, {bytes});
  return table;
}

void SymbolTable::sort_and_index(std::vector<Symbol> symbols) {
  std::vector<OrderKey> keys(symbols.size());
  for (uint32_t i = 0; i < keys.size(); ++i)
    keys[i] = {symbols[i].address, i, preference(symbols[i])};
  sort_by_address(
      keys, [&](uint32_t i) { return std::string_view(symbols[i].name); }, [&](uint32_t i) { return symbols[i].address; });
  symbols_.clear();
  symbols_.reserve(keys.size());
  for (const OrderKey& key : keys) symbols_.push_back(std::move(symbols[key.index]));
  build_name_index();
}

void SymbolTable::build_name_index() {
  // Open addressing, at most half full. A name's slot holds its most
  // preferred symbol, the first in address order among equals.
  size_t capacity = 16;
  while (capacity < symbols_.size() * 2) capacity *= 2;
  name_slots_.assign(capacity, kEmptySlot);
  for (uint32_t i = 0; i < symbols_.size(); ++i) {
    const Symbol& symbol = symbols_[i];
    for (size_t slot = name_hash(symbol.name) & (capacity - 1);; slot = (slot + 1) & (capacity - 1)) {
      uint32_t& held = name_slots_[slot];
      if (held == kEmptySlot) {
        held = i;
        break;
      }
      if (symbols_[held].name == symbol.name) {
        if (preference(symbol) < preference(symbols_[held])) held = i;
        break;
      }
    }
  }
}

void SymbolTable::relocate(int64_t delta) {
  move_addresses(delta);
  build_name_index();
}

void SymbolTable::move_addresses(int64_t delta) {
  if (delta == 0) return;
  slide_ += delta;
  // Moved and unmoved symbols each stay in address order: merge the two
  // runs (ties by former position, as the sort had them) instead of sorting
  // 100k+ symbols again.
  std::vector<uint32_t> moved, fixed;
  for (uint32_t i = 0; i < symbols_.size(); ++i) {
    Symbol& symbol = symbols_[i];
    if (is_fixed(symbol)) {
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
  // Symbols move into their places in place, cycle by cycle (order[k] is
  // the symbol that goes to k): a second table would be 10 MiB of new
  // memory for a distro kernel, every page of it a page fault.
  constexpr uint32_t kPlaced = UINT32_MAX;
  for (uint32_t start = 0; start < order.size(); ++start) {
    if (order[start] == kPlaced || order[start] == start) continue;
    Symbol held = std::move(symbols_[start]);
    uint32_t at = start;
    while (order[at] != start) {
      const uint32_t from = order[at];
      symbols_[at] = std::move(symbols_[from]);
      order[at] = kPlaced;
      at = from;
    }
    symbols_[at] = std::move(held);
    order[at] = kPlaced;
  }
}

SymbolTable SymbolTable::from_symbols(std::vector<Symbol> symbols) {
  SymbolTable table;
  table.sort_and_index(std::move(symbols));
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
  sort_and_index(std::move(placed));
  return {};
}

const Symbol* SymbolTable::find(std::string_view name) const {
  if (name_slots_.empty()) return nullptr;
  const size_t mask = name_slots_.size() - 1;
  for (size_t slot = name_hash(name) & mask; name_slots_[slot] != kEmptySlot; slot = (slot + 1) & mask)
    if (symbols_[name_slots_[slot]].name == name) return &symbols_[name_slots_[slot]];
  return nullptr;
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
