// The name index of one ELF file's DWARF: types by name, global variables,
// functions and enumerators -> the offset of their DIE in .debug_info.
//
// Why not LLVM's own DIE extraction: DWARFUnit::getNumDIEs() parses and keeps
// every DIE of a unit (24 bytes each, no public way to free them). On the
// 6.1 x86_64 fixture (62 MB .debug_info, 6.4 M DIEs, 1193 units) extracting
// them and reading the unit-level names costs 0.35-0.45 s CPU and 315 MB
// peak, before any deduplication. The index needs only the children of
// each unit DIE (and enumerators), so build() walks the DIE stream itself
// with its own abbreviation tables (abbreviation_table.hpp) and LLVM's
// DWARFFormValue (which decodes every form, relocations and string offsets
// included), jumps over subtrees
// through DW_AT_sibling and keeps only the entries: 0.33-0.35 s CPU for the
// finished, deduplicated index and 164 MB peak (most of it the mapped
// file), shared among threads unit by unit.
#pragma once

#include "capture/format/error.hpp"
#include "symbols/cache_file.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llvm {
class DWARFContext;
class DWARFUnit;
}

namespace coroner::symbols {

enum class NameKind : uint8_t {
  structure = 1,  // struct and class tags
  union_type,
  enumeration,
  typedef_type,
  base,
  variable,
  function,
  enumerator,
};

// What one unit holds under a name: rank orders definitions of the same
// (kind, name): 0 = a complete type, a variable with a location, a
// function with code; 1 = a declaration.
struct UnitEntry {
  std::string_view name;
  NameKind kind;
  uint8_t rank;
  uint64_t die_offset;
};

// Appends the indexed entries of one unit (its top-level DIEs and the
// enumerators of its enumeration types) to out. path names the file in errors.
Expected<void> index_unit(llvm::DWARFUnit& unit, const std::string& path, std::vector<UnitEntry>& out);

// Finds DIEs by name; implemented over a NameIndex, or without one
// (NameScanner) while no index is built.
class NameLookup {
 public:
  virtual ~NameLookup() = default;
  // The DIE of the best definition of (kind, name) -- NameIndex::find's rule.
  virtual Expected<std::optional<uint64_t>> find(NameKind kind, std::string_view name) const = 0;
};

class NameIndex {
 public:
  struct Entry {
    std::string_view name;
    NameKind kind;
    uint64_t die_offset;
  };

  // Walks every compile unit of context with `threads` threads. path names
  // the file in errors. release_pages, if given, is called now and then
  // (from any thread) to drop the pages of the walked units from the
  // resident set.
  static Expected<NameIndex> build(llvm::DWARFContext& context, const std::string& path, unsigned threads,
                                   const std::function<void()>& release_pages = {});
  // Adopts entries whose names point into storage.
  static NameIndex adopt(std::vector<Entry> entries, CacheBytes storage);

  // The DIE of the best definition of (kind, name): a complete type over a
  // declaration, a variable with a location, a function with code; among
  // equals, the lowest offset.
  std::optional<uint64_t> find(NameKind kind, std::string_view name) const;
  // Entries sorted by (kind, name), one per (kind, name).
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
  CacheBytes storage_;  // names of an index read from the cache
};

}  // namespace coroner::symbols
