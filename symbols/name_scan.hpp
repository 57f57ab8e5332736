// Finds a DIE by name without a name index, so that a cold start answers
// its first questions before (or without) indexing all of .debug_info.
//
// Every indexed DIE names itself with DW_AT_name, and in a linked file that
// is either DW_FORM_strp -- an offset into .debug_str, stored as is in the
// unit -- or an inline DW_FORM_string. So the units that can hold a name are
// those whose bytes contain one of the name's .debug_str offsets, or the
// name itself followed by NUL; a scan of the raw section (memchr speed, in
// chunks, in parallel, read with pread so the scanned file does not stay
// mapped) finds them, and each candidate unit is then walked with the
// indexer's own walker (index_unit), which decides exactly. Units are taken
// in offset order, and a scan stops at the first unit with a definition, so
// the answer is the one NameIndex::find would give -- its lowest-offset
// best-ranked entry -- and a type defined early in the file is found after
// reading only the start of the section.
//
// Not for files whose names live elsewhere: DW_FORM_strx (.debug_str_offsets),
// a supplementary file (.gnu_debugaltlink, .debug_sup), or a relocatable
// object, whose raw .debug_info bytes are not final until relocated.
#pragma once

#include "symbols/dwarf_index.hpp"

#include <map>
#include <memory>
#include <mutex>

namespace llvm::object {
class ObjectFile;
}

namespace coroner::symbols {

class NameScanner final : public NameLookup {
 public:
  // nullptr when names cannot be found this way (see above). object is the
  // ELF file context was made from; path names it (and is read with pread).
  static std::unique_ptr<NameScanner> create(llvm::DWARFContext& context, const llvm::object::ObjectFile& object,
                                             const std::string& path);
  ~NameScanner() override;

  Expected<std::optional<uint64_t>> find(NameKind kind, std::string_view name) const override;

  // find(), unless answering would take the scanner's total work (bytes of
  // .debug_info scanned, units walked) past budget: then `settled` is false
  // and the caller is better off building the index. A name used in most
  // units but defined in none (a bare struct name asked for as a typedef
  // first, `jiffies`) costs a walk of all those units.
  struct Budget {
    uint64_t bytes = UINT64_MAX;
    uint64_t units = UINT64_MAX;
  };
  struct Answer {
    bool settled = false;
    std::optional<uint64_t> die_offset;
  };
  Expected<Answer> find_within(NameKind kind, std::string_view name, Budget budget) const;

 private:
  struct Section;
  struct NameState;
  NameScanner(llvm::DWARFContext& context, std::string path, std::unique_ptr<Section> section);
  // Scans the next stretch of .debug_info for state's patterns and appends
  // the units of the hits.
  Expected<void> scan_more(NameState& state) const;

  llvm::DWARFContext& context_;
  std::string path_;
  std::unique_ptr<Section> section_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, std::unique_ptr<NameState>, std::less<>> names_;
  mutable uint64_t scanned_bytes_ = 0;
  mutable uint64_t walked_units_ = 0;
};

}  // namespace coroner::symbols
