#include "symbols/abbreviation_table.hpp"

#include "symbols/elf_file.hpp"

#include <llvm/Support/DataExtractor.h>

#include <algorithm>

namespace coroner::symbols {

namespace {

constexpr uint64_t kDenseCodes = 1 << 16;

}  // namespace

Expected<void> AbbreviationTable::read(std::string_view section, uint64_t offset,
                                       const llvm::dwarf::FormParams& params, const std::string& path) {
  if (offset == offset_ && params.Version == params_.Version && params.AddrSize == params_.AddrSize &&
      params.Format == params_.Format)
    return {};
  offset_ = UINT64_MAX;
  by_code_.clear();
  sparse_.clear();
  specs_.clear();
  auto fail = [&](uint64_t at, std::string_view reason) {
    return make_error(Errc::corrupt, "{}: .debug_abbrev offset {:#x}: {}", path, at, reason);
  };
  if (offset >= section.size()) return fail(offset, "the unit's abbreviations lie past the end of the section");
  llvm::DataExtractor data(llvm::StringRef(section.data(), section.size()), true, params.AddrSize);
  llvm::DataExtractor::Cursor cursor(offset);
  while (true) {
    const uint64_t at = cursor.tell();
    const uint64_t code = data.getULEB128(cursor);
    if (!cursor) return fail(at, llvm_message(cursor.takeError()));
    if (code == 0) break;
    Abbreviation abbreviation;
    abbreviation.tag = static_cast<llvm::dwarf::Tag>(data.getULEB128(cursor));
    abbreviation.has_children = data.getU8(cursor) == llvm::dwarf::DW_CHILDREN_yes;
    abbreviation.first = static_cast<uint32_t>(specs_.size());
    int64_t fixed = 0;
    while (true) {
      const auto attribute = static_cast<llvm::dwarf::Attribute>(data.getULEB128(cursor));
      const auto form = static_cast<llvm::dwarf::Form>(data.getULEB128(cursor));
      if (!cursor) return fail(at, llvm_message(cursor.takeError()));
      if (attribute == 0 && form == 0) break;
      // LLVM's reader rejects a set with such a pair, and its DIE readers
      // must never see what the walk accepted.
      if (attribute == 0 || form == 0) return fail(at, "an attribute or form of 0 in a declaration");
      AttributeSpec spec{attribute, form, 0};
      if (form == llvm::dwarf::DW_FORM_implicit_const) {
        spec.implicit_const = data.getSLEB128(cursor);
      } else if (fixed >= 0) {
        const std::optional<uint8_t> size = llvm::dwarf::getFixedFormByteSize(form, params);
        fixed = size ? fixed + *size : -1;
      }
      if (attribute == llvm::dwarf::DW_AT_sibling) abbreviation.has_sibling = true;
      specs_.push_back(spec);
    }
    if (abbreviation.tag == llvm::dwarf::DW_TAG_null) return fail(at, "abbreviation with tag 0");
    abbreviation.count = static_cast<uint32_t>(specs_.size() - abbreviation.first);
    abbreviation.fixed_size = fixed;
    if (code < kDenseCodes) {
      if (code >= by_code_.size()) by_code_.resize(code + 1);
      by_code_[code] = abbreviation;
    } else {
      sparse_.emplace_back(code, abbreviation);
    }
  }
  std::sort(sparse_.begin(), sparse_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  offset_ = offset;
  params_ = params;
  return {};
}

const Abbreviation* AbbreviationTable::find_sparse(uint64_t code) const {
  auto it = std::lower_bound(sparse_.begin(), sparse_.end(), code,
                             [](const auto& entry, uint64_t wanted) { return entry.first < wanted; });
  return it != sparse_.end() && it->first == code ? &it->second : nullptr;
}

}  // namespace coroner::symbols
