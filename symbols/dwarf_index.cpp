#include "symbols/dwarf_index.hpp"

#include "symbols/abbreviation_table.hpp"
#include "symbols/elf_file.hpp"

#include <llvm/DebugInfo/DWARF/DWARFContext.h>
#include <llvm/DebugInfo/DWARF/DWARFFormValue.h>
#include <llvm/DebugInfo/DWARF/DWARFUnit.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <span>
#include <thread>
#include <tuple>
#include <unordered_map>

namespace coroner::symbols {

namespace {

using namespace llvm::dwarf;

bool entry_order(const UnitEntry& a, const UnitEntry& b) {
  return std::tie(a.kind, a.name, a.rank, a.die_offset) < std::tie(b.kind, b.name, b.rank, b.die_offset);
}

std::optional<NameKind> indexed_kind(Tag tag) {
  switch (tag) {
    case DW_TAG_structure_type: case DW_TAG_class_type: return NameKind::structure;
    case DW_TAG_union_type: return NameKind::union_type;
    case DW_TAG_enumeration_type: return NameKind::enumeration;
    case DW_TAG_typedef: return NameKind::typedef_type;
    case DW_TAG_base_type: return NameKind::base;
    case DW_TAG_variable: return NameKind::variable;
    case DW_TAG_subprogram: return NameKind::function;
    default: return std::nullopt;
  }
}

// Absolute .debug_info offset of a reference attribute.
std::optional<uint64_t> absolute_reference(const llvm::DWARFFormValue& value, const llvm::DWARFUnit& unit) {
  switch (value.getForm()) {
    case DW_FORM_ref1: case DW_FORM_ref2: case DW_FORM_ref4: case DW_FORM_ref8: case DW_FORM_ref_udata:
      return unit.getOffset() + value.getRawUValue();
    case DW_FORM_ref_addr:
      return value.getRawUValue();
    default:
      return std::nullopt;
  }
}

// What the walk keeps of one DIE.
struct DieFacts {
  std::string_view name;
  std::optional<uint64_t> sibling;
  std::optional<uint64_t> origin;  // DW_AT_specification / DW_AT_abstract_origin
  bool declaration = false;
  bool has_location = false;  // DW_AT_location (variables) or DW_AT_low_pc / DW_AT_ranges (code)
};

// Whether strx/addrx forms may occur: their bases come from the unit DIE,
// which LLVM must then have extracted (DWARFUnit::getUnitDIE).
bool needs_unit_bases(const llvm::DWARFUnit& unit) {
  const llvm::DWARFObject& dwarf = unit.getContext().getDWARFObj();
  return !dwarf.getStrOffsetsSection().Data.empty() || !dwarf.getAddrSection().Data.empty();
}

class UnitWalker {
 public:
  UnitWalker(llvm::DWARFUnit& unit, const std::string& path, AbbreviationTable& abbreviations,
             std::vector<UnitEntry>& out)
      : unit_(unit), path_(path), abbreviations_(abbreviations), out_(out), data_(unit.getDebugInfoExtractor()) {}

  Expected<void> walk() {
    if (needs_unit_bases(unit_)) unit_.getUnitDIE(/*ExtractUnitDIEOnly=*/true);
    const llvm::StringRef abbrev_section = unit_.getContext().getDWARFObj().getAbbrevSection();
    CORONER_CHECK(abbreviations_.read(std::string_view(abbrev_section.data(), abbrev_section.size()),
                                      unit_.getAbbrOffset(), unit_.getFormParams(), path_));
    const uint64_t end = unit_.getNextUnitOffset();
    const size_t first_entry = out_.size();
    uint64_t offset = unit_.getOffset() + unit_.getHeaderSize();  // the unit DIE
    int depth = 0;
    bool in_enumeration = false;  // depth 2 below an enumeration type
    std::vector<std::pair<uint64_t, size_t>> pending;  // definitions named by their origin
    std::vector<std::pair<uint64_t, std::string_view>> named;  // depth-1 DIEs with a name

    do {
      const uint64_t die_offset = offset;
      if (offset >= end) return fail(die_offset, "DIE tree runs past the end of its unit");
      llvm::Error error = llvm::Error::success();
      const uint64_t code = data_.getULEB128(&offset, &error);
      if (error) return fail(die_offset, llvm_message(std::move(error)));
      if (code == 0) {
        --depth;
        in_enumeration = in_enumeration && depth == 2;
        continue;
      }
      const Abbreviation* abbreviation = abbreviations_.find(code);
      if (abbreviation == nullptr) return fail(die_offset, fmt::format("unknown abbreviation code {}", code));
      const Tag tag = abbreviation->tag;
      std::optional<NameKind> kind;
      if (depth == 1) kind = indexed_kind(tag);
      else if (depth == 2 && in_enumeration && tag == DW_TAG_enumerator) kind = NameKind::enumerator;
      DieFacts facts;
      CORONER_CHECK(read_attributes(*abbreviation, die_offset, offset, kind.has_value(), facts));
      if (offset > end) return fail(die_offset, "DIE runs past the end of its unit");

      if (kind) {
        if (depth == 1 && !facts.name.empty()) named.emplace_back(die_offset, facts.name);
        uint8_t rank = facts.declaration ? 1 : 0;
        if ((*kind == NameKind::variable || *kind == NameKind::function) && !facts.has_location) rank = 1;
        if (!facts.name.empty()) {
          out_.push_back({facts.name, *kind, rank, die_offset});
        } else if (facts.origin && depth == 1 &&
                   (*kind == NameKind::variable || *kind == NameKind::function)) {
          pending.emplace_back(*facts.origin, out_.size());
          out_.push_back({{}, *kind, rank, die_offset});
        }
      }
      if (abbreviation->has_children) {
        if (depth == 1 && tag == DW_TAG_enumeration_type) {
          in_enumeration = true;
          ++depth;
        } else if (depth >= 1 && facts.sibling && *facts.sibling > offset && *facts.sibling <= end) {
          offset = *facts.sibling;  // skip the subtree
        } else {
          ++depth;
        }
      }
    } while (depth > 0);

    // A definition elsewhere in the unit (DW_AT_specification) carries no
    // name of its own: it takes its declaration's.
    for (auto [origin, slot] : pending) {
      auto it = std::lower_bound(named.begin(), named.end(), std::make_pair(origin, std::string_view()));
      if (it != named.end() && it->first == origin) out_[slot].name = it->second;
    }
    // Only this unit's entries: out_ holds the thread's earlier units too.
    out_.erase(std::remove_if(out_.begin() + static_cast<ptrdiff_t>(first_entry), out_.end(),
                              [](const UnitEntry& c) { return c.name.empty(); }),
               out_.end());
    return {};
  }

 private:
  Expected<void> read_attributes(const Abbreviation& abbreviation, uint64_t die_offset, uint64_t& offset,
                                 bool wanted, DieFacts& facts) {
    if (!wanted && !abbreviation.has_sibling && abbreviation.fixed_size >= 0) {
      offset += static_cast<uint64_t>(abbreviation.fixed_size);  // nothing to read: skip the DIE at once
      return {};
    }
    const llvm::dwarf::FormParams params = unit_.getFormParams();
    const AttributeSpec* specs = abbreviations_.specs().data() + abbreviation.first;
    for (const AttributeSpec& spec : std::span(specs, abbreviation.count)) {
      const bool needed = spec.attribute == DW_AT_sibling ||
                          (wanted && (spec.attribute == DW_AT_name || spec.attribute == DW_AT_declaration ||
                                      spec.attribute == DW_AT_specification ||
                                      spec.attribute == DW_AT_abstract_origin || spec.attribute == DW_AT_location ||
                                      spec.attribute == DW_AT_low_pc || spec.attribute == DW_AT_ranges ||
                                      spec.attribute == DW_AT_const_value));
      if (spec.form == DW_FORM_implicit_const && !needed) continue;
      if (!needed) {
        if (!llvm::DWARFFormValue::skipValue(spec.form, data_, &offset, params))
          return fail(die_offset, fmt::format("cannot skip attribute form {:#x}", static_cast<unsigned>(spec.form)));
        continue;
      }
      llvm::DWARFFormValue value = spec.form == DW_FORM_implicit_const
                                       ? llvm::DWARFFormValue::createFromSValue(spec.form, spec.implicit_const)
                                       : llvm::DWARFFormValue(spec.form);
      if (spec.form != DW_FORM_implicit_const && !value.extractValue(data_, &offset, params, &unit_))
        return fail(die_offset, fmt::format("cannot read attribute form {:#x}", static_cast<unsigned>(spec.form)));
      switch (spec.attribute) {
        case DW_AT_sibling: facts.sibling = absolute_reference(value, unit_); break;
        case DW_AT_name: {
          auto name = value.getAsCString();
          if (!name) return fail(die_offset, llvm_message(name.takeError()));
          facts.name = *name;
          break;
        }
        case DW_AT_declaration: facts.declaration = value.getForm() == DW_FORM_flag_present || value.getRawUValue() != 0; break;
        case DW_AT_specification: case DW_AT_abstract_origin: facts.origin = absolute_reference(value, unit_); break;
        default: facts.has_location = true; break;  // location, low_pc, ranges, const_value
      }
    }
    return {};
  }

  Error fail(uint64_t offset, std::string_view reason) const {
    return make_error(Errc::corrupt, "{}: .debug_info offset {:#x}: {}", path_, offset, reason);
  }

  llvm::DWARFUnit& unit_;
  const std::string& path_;
  AbbreviationTable& abbreviations_;
  std::vector<UnitEntry>& out_;
  llvm::DWARFDataExtractor data_;
};

// Sorted, one candidate (the best) per (kind, name).
void sort_unique(std::vector<UnitEntry>& candidates) {
  std::sort(candidates.begin(), candidates.end(), entry_order);
  auto last = std::unique(candidates.begin(), candidates.end(), [](const UnitEntry& a, const UnitEntry& b) {
    return a.kind == b.kind && a.name == b.name;
  });
  candidates.erase(last, candidates.end());
}

}  // namespace

Expected<void> index_unit(llvm::DWARFUnit& unit, const std::string& path, std::vector<UnitEntry>& out) {
  AbbreviationTable abbreviations;
  return UnitWalker(unit, path, abbreviations, out).walk();
}

Expected<NameIndex> NameIndex::build(llvm::DWARFContext& context, const std::string& path, unsigned threads,
                                     const std::function<void()>& release_pages) {
  std::vector<llvm::DWARFUnit*> units;
  for (const auto& unit : context.info_section_units())
    if (!unit->isTypeUnit()) units.push_back(unit.get());
  // LLVM extracts unit DIEs (and the abbreviations they need) lazily into
  // caches shared without locks; where the walk needs their strx/addrx
  // bases, extract them before the threads start, so the threads only read.
  for (llvm::DWARFUnit* unit : units)
    if (needs_unit_bases(*unit)) unit->getUnitDIE(/*ExtractUnitDIEOnly=*/true);

  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(units.size())));
  std::vector<std::vector<UnitEntry>> found(threads);
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  std::optional<Error> first_error;
  auto work = [&](std::vector<UnitEntry>& out) {
    // Most names are DW_FORM_strp into the linker-merged .debug_str, so a
    // name repeated in many units is one pointer: deduplicating by pointer
    // first leaves the sort (by content) a tenth of the entries.
    std::unordered_map<uint64_t, size_t> slot_of;
    std::vector<UnitEntry> unit_entries;
    AbbreviationTable abbreviations;
    for (size_t i; (i = next++) < units.size();) {
      // Every 64 units (about 4 MiB of a large kernel's .debug_info); a
      // unit another thread is reading is just faulted in again.
      if (release_pages && i % 64 == 63) release_pages();
      unit_entries.clear();
      auto walked = UnitWalker(*units[i], path, abbreviations, unit_entries).walk();
      if (!walked) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = walked.error();
        next = units.size();
        break;
      }
      for (const UnitEntry& c : unit_entries) {
        const uint64_t key = reinterpret_cast<uintptr_t>(c.name.data()) ^ (uint64_t{static_cast<uint8_t>(c.kind)} << 58);
        auto [it, inserted] = slot_of.try_emplace(key, out.size());
        if (inserted) {
          out.push_back(c);
        } else if (UnitEntry& kept = out[it->second];
                   std::tie(c.rank, c.die_offset) < std::tie(kept.rank, kept.die_offset)) {
          kept = c;  // one pointer is one NUL-terminated name
        }
      }
    }
    sort_unique(out);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, std::ref(found[t]));
  work(found[0]);
  for (auto& thread : pool) thread.join();
  if (first_error) return *first_error;
  if (release_pages) release_pages();

  std::vector<UnitEntry> merged;
  for (auto& part : found) {
    std::vector<UnitEntry> next_merged;
    next_merged.reserve(merged.size() + part.size());
    std::merge(merged.begin(), merged.end(), part.begin(), part.end(), std::back_inserter(next_merged), entry_order);
    merged = std::move(next_merged);
    part = {};
  }
  sort_unique(merged);
  NameIndex index;
  index.entries_.reserve(merged.size());
  for (const UnitEntry& c : merged) index.entries_.push_back({c.name, c.kind, c.die_offset});
  return index;
}

NameIndex NameIndex::adopt(std::vector<Entry> entries, CacheBytes storage) {
  NameIndex index;
  index.entries_ = std::move(entries);
  index.storage_ = std::move(storage);
  return index;
}

std::optional<uint64_t> NameIndex::find(NameKind kind, std::string_view name) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), std::make_pair(kind, name),
                             [](const Entry& e, const std::pair<NameKind, std::string_view>& key) {
                               return std::tie(e.kind, e.name) < std::tie(key.first, key.second);
                             });
  if (it == entries_.end() || it->kind != kind || it->name != name) return std::nullopt;
  return it->die_offset;
}

}  // namespace coroner::symbols
