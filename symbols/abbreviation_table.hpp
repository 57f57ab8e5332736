// One unit's DWARF abbreviation declarations (.debug_abbrev), decoded into
// flat arrays for the name indexer's DIE walk.
//
// Why not LLVM's DWARFDebugAbbrev: it parses each set into a vector of
// declarations that each own a small vector (a heap allocation per
// declaration), keeps them in a map shared by the whole context without a
// lock, and so had to be filled for every unit before the indexing threads
// started: on a 160 MiB distro vmlinux (2172 units, 5 MiB of abbreviations)
// that serial fill was 0.45 s, most of a cold index build. This table is
// per thread, built in one pass, and knows how many bytes a DIE whose
// attributes all have fixed sizes takes, so that the walk skips it in one
// step.
#pragma once

#include "capture/format/error.hpp"

#include <llvm/BinaryFormat/Dwarf.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace coroner::symbols {

struct AttributeSpec {
  llvm::dwarf::Attribute attribute;
  llvm::dwarf::Form form;
  int64_t implicit_const = 0;  // DW_FORM_implicit_const's value
};

struct Abbreviation {
  llvm::dwarf::Tag tag = llvm::dwarf::DW_TAG_null;
  bool has_children = false;
  uint32_t first = 0;  // its attributes: specs()[first, first + count)
  uint32_t count = 0;
  // Bytes of all attributes when every form has a fixed size for the unit's
  // FormParams, else -1.
  int64_t fixed_size = -1;
  bool has_sibling = false;
};

class AbbreviationTable {
 public:
  // Decodes the set at `offset` of section (.debug_abbrev) for a unit with
  // `params`; keeps the previous table when offset and params are the same.
  // path names the file in errors.
  Expected<void> read(std::string_view section, uint64_t offset, const llvm::dwarf::FormParams& params,
                      const std::string& path);

  // The declaration of code, or nullptr when the set has none.
  const Abbreviation* find(uint64_t code) const {
    if (code < by_code_.size()) return by_code_[code].tag != llvm::dwarf::DW_TAG_null ? &by_code_[code] : nullptr;
    return find_sparse(code);
  }
  const std::vector<AttributeSpec>& specs() const { return specs_; }

 private:
  const Abbreviation* find_sparse(uint64_t code) const;

  std::vector<Abbreviation> by_code_;  // codes below kDenseCodes (compilers number them 1, 2, ...)
  std::vector<std::pair<uint64_t, Abbreviation>> sparse_;  // the others, sorted by code
  std::vector<AttributeSpec> specs_;
  uint64_t offset_ = UINT64_MAX;
  llvm::dwarf::FormParams params_{};
};

}  // namespace coroner::symbols
