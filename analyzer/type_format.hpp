// C declarations of types the way gdb's ptype/whatis and crash's struct
// print them: declarators ("char comm[16]", "void (*func)(int)"), struct
// bodies with anonymous members expanded, and layouts with offsets.
#pragma once

#include "symbols/types.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace coroner {

// `type name` as C declares it; an empty name gives the type's spelling
// ("char [16]", "char (*)[16]", "void (void)").
std::string declaration(symbols::QualifiedType type, std::string_view name);

// One member of a struct/union layout; members of anonymous structs and
// unions nest under their entry.
struct LayoutEntry {
  std::string name;          // empty for an anonymous struct/union
  symbols::QualifiedType type;
  uint64_t bit_offset = 0;   // from the start of the outermost type
  uint64_t bit_size = 0;     // 0 unless a bitfield
  uint64_t size = 0;         // bytes (of the declared type)
  bool expanded = false;     // an anonymous struct/union type, printed inline
  std::vector<LayoutEntry> members;
};
Expected<std::vector<LayoutEntry>> layout_of(const symbols::Type& type, uint64_t base_bit_offset = 0);

// gdb's ptype: typedefs at the top stripped, the struct/union/enum at the
// base of pointers and arrays expanded ("struct list_head {\n    ...\n} *").
Expected<std::string> ptype_text(symbols::QualifiedType type);

// The declaration lines of a layout at 4-space indentation `depth` (gdb's
// ptype body), or with crash's `struct -o` offset column: `column` is the
// width of "[offset]" right-aligned; base_address (if nonzero) makes the
// column show addresses instead of offsets.
std::string layout_text(const std::vector<LayoutEntry>& entries, int depth);
std::string layout_offsets_text(const std::vector<LayoutEntry>& entries, int depth, size_t column, uint64_t base_address);

// crash's `struct NAME` / `whatis struct NAME`: "struct list_head {\n
// ...}\n" with 4-space member lines, or with the offset column when
// offsets is set; entries may be a selection of the type's members.
std::string definition_text(const symbols::Type& type, const std::vector<LayoutEntry>& entries, bool offsets,
                            uint64_t base_address = 0);

// Layout entries as JSON: name, type, offset, size, bit_offset, bit_size
// (and "members" for anonymous structs/unions).
nlohmann::json layout_json(const std::vector<LayoutEntry>& entries);

// An enum's enumerators as gdb's ptype lists them: "{A, B = 4, C}".
std::string enumerators_text(const symbols::Type& type);

}  // namespace coroner
