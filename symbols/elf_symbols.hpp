// ELF symbol tables (.symtab, else .dynsym) of a vmlinux or a kernel module,
// with nm-style type letters, plus the ELF facts the analyzer matches a dump
// against: the GNU build-id and the machine.
#pragma once

#include "capture/format/error.hpp"
#include "symbols/section_addresses.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llvm::object {
class ObjectFile;
}

namespace coroner::symbols {

class CacheBytes;

struct Symbol {
  std::string name;
  uint64_t address = 0;  // link-time (relocate() adds the KASLR delta); section offset in a .ko
  uint64_t size = 0;
  char type = '?';       // nm letter: T t D d B b R r A W w V v N ...
  std::string section;   // ".text", ".data..percpu", ... (empty for absolute symbols)
  bool is_function = false;  // STT_FUNC
  bool is_object = false;    // STT_OBJECT
};

class SymbolTable {
 public:
  // Reads the symbols of an ELF file (vmlinux or a .ko); errors name the file.
  // With a cache_dir, the sorted table is kept there keyed by the file's
  // build-id (symbol_table_cache.cpp), so the next start skips the sorting.
  // `slide` is applied as by relocate(); a cached table is moved by the
  // difference from the slide it was written at.
  // CacheWrite::no only reads the cache: a session leaves writing it to the
  // index builder it starts at its end (6 MiB written cost a cold session
  // 20 ms).
  enum class CacheWrite { yes, no };
  static Expected<SymbolTable> from_elf(const std::string& path, const std::string& cache_dir = "",
                                        int64_t slide = 0, CacheWrite write = CacheWrite::yes);
  // The same for a file open already (symbols/elf_file.hpp open_elf); path
  // names it in errors.
  static Expected<SymbolTable> from_object(const llvm::object::ObjectFile& object, const std::string& path,
                                           const std::string& cache_dir = "", int64_t slide = 0,
                                           CacheWrite write = CacheWrite::yes);

  // A table of symbols found elsewhere (a module's kallsyms in memory),
  // at run-time addresses.
  static SymbolTable from_symbols(std::vector<Symbol> symbols);

  // KASLR: adds delta to every address except absolute ('A') symbols and the
  // zero-based per-CPU offsets of x86_64 (.data..percpu linked at 0), which
  // the kernel does not move.
  void relocate(int64_t delta);
  int64_t slide() const { return slide_; }  // the sum of the deltas applied

  // A module (relocatable table): moves each symbol from its offset in its
  // section to that section's run-time address in `sections` and drops the
  // symbols of sections not listed there (not loaded, or freed) and ARM
  // mapping symbols ($x, $d), which name no code; the rest is sorted and
  // indexed as from_elf() does. An error for a linked (non-ET_REL) table.
  Expected<void> place_sections(const SectionAddresses& sections);

  // Exact name; prefers a global text/data symbol over local duplicates.
  const Symbol* find(std::string_view name) const;
  // The greatest text/data symbol at or below address (for "name+off"), or
  // nullptr when none is. x86_64's per-CPU offsets are not addresses and
  // never match.
  const Symbol* containing(uint64_t address) const;
  // Every symbol whose name contains substring, in address order.
  std::vector<const Symbol*> search(std::string_view substring) const;
  // All symbols sorted by address (then preferred name first).
  const std::vector<Symbol>& by_address() const { return symbols_; }

  // ELF e_type is ET_REL (a module): addresses are offsets in their section.
  bool is_relocatable() const { return relocatable_; }

 private:
  // Makes `symbols` the table: sorted by address, then preference, then
  // name, then their order in the vector; and indexed by name.
  void sort_and_index(std::vector<Symbol> symbols);
  void build_name_index();
  // relocate() without the name index (rebuilt by the caller).
  void move_addresses(int64_t delta);
  // The cache file's bytes ("" for a table the format cannot hold: 65535+
  // sections), and the table back from them; nullopt for a file that fails
  // any consistency check (it is then rebuilt). deserialize() leaves the
  // name index to the caller.
  std::string serialize(uint64_t elf_size) const;
  static std::optional<SymbolTable> deserialize(const CacheBytes& bytes, uint64_t elf_size);
  bool is_percpu_offset(const Symbol& symbol) const {
    return zero_based_percpu_ && symbol.section == ".data..percpu";
  }
  // Not moved by KASLR: absolute symbols and per-CPU offsets.
  bool is_fixed(const Symbol& symbol) const {
    return symbol.type == 'A' || symbol.type == 'a' || is_percpu_offset(symbol);
  }

  std::vector<Symbol> symbols_;            // sorted by address
  // A hash table of names: per slot an index into symbols_ (the preferred
  // symbol of its name), or kEmptySlot.
  static constexpr uint32_t kEmptySlot = UINT32_MAX;
  std::vector<uint32_t> name_slots_;
  bool relocatable_ = false;
  bool zero_based_percpu_ = false;
  int64_t slide_ = 0;
};

// <cache_dir>/<build_id>.symbols
std::string symbol_cache_path(const std::string& cache_dir, const std::string& build_id);

// True for the nm letters of code and data (T t D d B b R r W w V v).
bool is_text_or_data(char type);

// Lower-case hex of the GNU build-id note ("320cf4ad...").
Expected<std::string> elf_build_id(const std::string& path);
// e_machine of an ELF file as an architecture name: "x86_64", "aarch64", ...
Expected<std::string> elf_machine(const std::string& path);

}  // namespace coroner::symbols
