#include "symbols/cfi_table.hpp"

#include "symbols/elf_file.hpp"
#include "symbols/section_load_info.hpp"

#include <llvm/BinaryFormat/ELF.h>
#include <llvm/DebugInfo/DWARF/DWARFContext.h>
#include <llvm/DebugInfo/DWARF/DWARFDataExtractor.h>
#include <llvm/DebugInfo/DWARF/DWARFDebugFrame.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <cstring>
#include <map>
#include <mutex>
#include <string_view>

namespace coroner::symbols {

namespace {

// An FDE by the link-time (or, in a placed module, run-time) range it covers.
struct FdeRange {
  uint64_t start = 0;
  uint64_t end = 0;
  const llvm::dwarf::FDE* fde = nullptr;
};

// One frame section's FDEs, sorted by start.
struct FdeIndex {
  const char* section = "";
  std::vector<FdeRange> fdes;

  const FdeRange* find(uint64_t address) const {
    auto after = std::upper_bound(fdes.begin(), fdes.end(), address,
                                  [](uint64_t value, const FdeRange& range) { return value < range.start; });
    // FDEs do not overlap in the files we read, but a zero-length one may
    // share a start with a real one: look back past those.
    while (after != fdes.begin()) {
      --after;
      if (address < after->end) return &*after;
      if (after->end > after->start) break;
    }
    return nullptr;
  }
};

FdeIndex index_frames(const llvm::DWARFDebugFrame& frames, const char* section) {
  FdeIndex index{section, {}};
  for (const llvm::dwarf::FrameEntry& entry : frames.entries())
    if (const auto* fde = llvm::dyn_cast<llvm::dwarf::FDE>(&entry))
      index.fdes.push_back({fde->getInitialLocation(), fde->getInitialLocation() + fde->getAddressRange(), fde});
  std::stable_sort(index.fdes.begin(), index.fdes.end(),
                   [](const FdeRange& a, const FdeRange& b) { return a.start < b.start; });
  return index;
}

// A linked file's .debug_frame FDE, found by reading the entry headers
// only: parsing every FDE's instructions with LLVM (DWARFDebugFrame) cost a
// distro kernel's first CFI lookup 0.5 s and 100k+ allocations, where one
// lookup needs one FDE and its CIE.
struct RawFde {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t offset = 0;  // in .debug_frame
  uint64_t size = 0;    // of the whole entry
  uint64_t cie_offset = 0;
  uint64_t cie_size = 0;
};

// Visits the FDEs of a .debug_frame whose CIEs all have an empty
// augmentation (then an FDE is: length, CIE pointer, initial location,
// range, all in fixed sizes), in file order; false for anything else, which
// is left to LLVM's parser (and its errors).
template <typename Visit>
bool scan_raw_frames(std::string_view data, bool little_endian, unsigned address_size, Visit&& visit) {
  if (!little_endian || (address_size != 4 && address_size != 8)) return false;
  auto read = [&](uint64_t at, unsigned size) -> std::optional<uint64_t> {
    if (at > data.size() || size > data.size() - at) return std::nullopt;
    uint64_t value = 0;
    std::memcpy(&value, data.data() + at, size);  // little-endian host and file
    return value;
  };
  std::map<uint64_t, uint64_t> cies;  // offset -> size
  for (uint64_t at = 0; at < data.size();) {
    auto length = read(at, 4);
    if (!length) return false;
    const bool dwarf64 = *length == 0xffffffff;
    const unsigned header = dwarf64 ? 12 : 4, id_size = dwarf64 ? 8 : 4;
    if (dwarf64) length = read(at + 4, 8);
    if (!length || *length > data.size() - at - header) return false;
    if (*length == 0) return false;  // a terminator: not in a linked kernel's table
    const uint64_t size = header + *length;
    auto id = read(at + header, id_size);
    if (!id) return false;
    if (*id == (dwarf64 ? UINT64_MAX : 0xffffffff)) {
      // CIE: version (1 byte), then the augmentation string.
      if (*length < id_size + 2 || data[at + header + id_size + 1] != '\0') return false;
      cies[at] = size;
    } else {
      auto start = read(at + header + id_size, address_size);
      auto range = read(at + header + id_size + address_size, address_size);
      auto cie = cies.find(*id);  // CIEs precede their FDEs in what linkers write
      if (!start || !range || cie == cies.end()) return false;
      visit(RawFde{*start, *start + *range, at, size, cie->first, cie->second});
    }
    at += size;
  }
  return true;
}

// The lookup FdeIndex::find makes in sorted FDEs, made in file order: the
// last FDE (by start, then file order) starting at or below address that is
// not empty, if it covers address.
class LinearFdeLookup {
 public:
  explicit LinearFdeLookup(uint64_t address) : address_(address) {}
  void operator()(const RawFde& fde) {
    if (fde.start <= address_ && fde.end > fde.start && (!best_ || fde.start >= best_->start)) best_ = fde;
  }
  std::optional<RawFde> found() const {
    if (best_ && address_ < best_->end) return best_;
    return std::nullopt;
  }

 private:
  uint64_t address_;
  std::optional<RawFde> best_;
};

// Whether a CFA- or register-relative location is a memory slot ("at")
// rather than a value ("is"). LLVM has no accessor for it but compares it.
bool is_dereference(const llvm::dwarf::UnwindLocation& location) {
  using Location = llvm::dwarf::UnwindLocation;
  if (location.getLocation() == Location::CFAPlusOffset)
    return location == Location::createAtCFAPlusOffset(location.getOffset());
  return location == Location::createAtRegisterPlusOffset(location.getRegister(), location.getOffset());
}

CfiRule translate_rule(const llvm::dwarf::UnwindLocation& location) {
  using Location = llvm::dwarf::UnwindLocation;
  CfiRule rule;
  switch (location.getLocation()) {
    case Location::Undefined:
      rule.kind = CfiRule::Kind::undefined;
      break;
    case Location::Same:
      rule.kind = CfiRule::Kind::same_value;
      break;
    case Location::CFAPlusOffset:
      rule.kind = is_dereference(location) ? CfiRule::Kind::at_cfa_offset : CfiRule::Kind::is_cfa_offset;
      rule.offset = location.getOffset();
      break;
    case Location::RegPlusOffset:
      // DW_CFA_register: the plain value of another register. Anything
      // with an offset or a dereference is an expression in disguise.
      if (!is_dereference(location) && location.getOffset() == 0) {
        rule.kind = CfiRule::Kind::in_register;
        rule.reg = location.getRegister();
      } else {
        rule.kind = CfiRule::Kind::unsupported;
      }
      break;
    default:  // DWARF expressions, constants (arm64's return-address signing state)
      rule.kind = CfiRule::Kind::unsupported;
      break;
  }
  return rule;
}

// Every register rule of a row. LLVM keeps them in a map it does not let us
// walk, so ask for register numbers in turn until all have been found.
std::vector<std::pair<unsigned, CfiRule>> translate_rules(const llvm::dwarf::RegisterLocations& locations) {
  std::vector<std::pair<unsigned, CfiRule>> rules;
  constexpr unsigned kHighestRegister = 4096;  // beyond every ISA's DWARF numbering
  size_t seen = 0;
  for (unsigned reg = 0; reg < kHighestRegister && seen < locations.size(); ++reg) {
    auto location = locations.getRegisterLocation(reg);
    if (!location) continue;
    ++seen;
    // Unspecified: no rule, as if the register were not listed.
    if (location->getLocation() != llvm::dwarf::UnwindLocation::Unspecified)
      rules.push_back({reg, translate_rule(*location)});
  }
  return rules;
}

}  // namespace

struct CfiTable::State {
  std::string path;
  int64_t bias = 0;
  bool relocatable = false;
  llvm::object::OwningBinary<llvm::object::ObjectFile> binary;
  std::unique_ptr<SectionLoadInfo> placed;

  // Parsed on the first find(): the context, then each section's index.
  std::once_flag parsed_once;
  std::unique_ptr<llvm::DWARFContext> context;
  std::vector<FdeIndex> indexes;  // .debug_frame first: it is the one the kernel is built with
  // Or, for a linked file with .debug_frame alone, its FDEs read raw, each
  // parsed by LLVM when looked up (with its CIE). The first few lookups scan
  // the section (a unwind meets code without ORC once or twice: the
  // scan costs less than indexing 60,000 FDEs); later ones sort it once.
  bool raw = false;
  std::string_view debug_frame;
  std::atomic<unsigned> raw_lookups{0};
  std::once_flag sorted_once;
  std::vector<RawFde> sorted_fdes;
  std::optional<Error> parse_error;

  void parse();
  std::optional<RawFde> find_raw_fde(uint64_t address);
  Expected<std::optional<CfiRow>> find_raw(uint64_t address);
  Expected<std::optional<CfiRow>> row_at(const llvm::dwarf::FDE& fde, uint64_t end, uint64_t address,
                                         std::string_view section, uint64_t fde_offset) const;
};

CfiTable::~CfiTable() = default;

Expected<std::unique_ptr<CfiTable>> CfiTable::open(const std::string& path, int64_t bias,
                                                   const SectionAddresses* sections) {
  std::unique_ptr<CfiTable> table(new CfiTable());
  table->state_ = std::make_unique<State>();
  State& state = *table->state_;
  state.path = path;
  state.bias = bias;
  CORONER_TRY(binary, open_elf(path));
  state.binary = std::move(binary);
  const llvm::object::ObjectFile& object = *state.binary.getBinary();
  state.relocatable = as_elf(object).getEType() == llvm::ELF::ET_REL;

  bool has_frames = false;
  for (std::string_view name : {".debug_frame", ".eh_frame"})
    if (auto section = find_section(object, name); section && section->getSize() > 0) has_frames = true;
  if (!has_frames) return make_error(Errc::not_found, "{}: no call frame information (.debug_frame, .eh_frame)", path);
  if (sections) state.placed = std::make_unique<SectionLoadInfo>(*sections);
  return table;
}

void CfiTable::State::parse() {
  const llvm::object::ObjectFile& object = *binary.getBinary();
  if (!relocatable && !find_section(object, ".eh_frame"))
    if (auto section = find_section(object, ".debug_frame")) {
      auto contents = section->getContents();
      if (!contents) {
        parse_error = make_error(Errc::corrupt, "{}: .debug_frame: {}", path, llvm_message(contents.takeError()));
        return;
      }
      debug_frame = std::string_view(contents->data(), contents->size());
      raw = scan_raw_frames(debug_frame, object.isLittleEndian(), object.getBytesInAddress(), [](const RawFde&) {});
      if (raw) return;
    }
  auto ignore = [](llvm::Error error) { llvm::consumeError(std::move(error)); };
  // A linked vmlinux's frame tables are final (its kept .rela.debug_frame
  // must not be applied again); a module's need its relocations, with the
  // sections placed where the kernel loaded them.
  context = llvm::DWARFContext::create(object,
                                       relocatable ? llvm::DWARFContext::ProcessDebugRelocations::Process
                                                   : llvm::DWARFContext::ProcessDebugRelocations::Ignore,
                                       placed.get(), "", ignore, ignore);
  const llvm::DWARFObject& dwarf = context->getDWARFObj();
  if (!dwarf.getFrameSection().Data.empty()) {
    auto frames = context->getDebugFrame();
    if (!frames) {
      parse_error = make_error(Errc::corrupt, "{}: .debug_frame: {}", path, llvm_message(frames.takeError()));
      return;
    }
    indexes.push_back(index_frames(**frames, ".debug_frame"));
  }
  if (!dwarf.getEHFrameSection().Data.empty()) {
    auto frames = context->getEHFrame();
    if (!frames) {
      parse_error = make_error(Errc::corrupt, "{}: .eh_frame: {}", path, llvm_message(frames.takeError()));
      return;
    }
    indexes.push_back(index_frames(**frames, ".eh_frame"));
  }
}

Expected<std::optional<CfiRow>> CfiTable::find(uint64_t pc) const {
  State& state = *state_;
  std::call_once(state.parsed_once, [&state] { state.parse(); });
  if (state.parse_error) return *state.parse_error;

  const uint64_t address = pc - static_cast<uint64_t>(state.bias);
  if (state.raw) return state.find_raw(address);
  for (const FdeIndex& index : state.indexes) {
    const FdeRange* range = index.find(address);
    if (!range) continue;
    return state.row_at(*range->fde, range->end, address, index.section, range->fde->getOffset());
  }
  return std::optional<CfiRow>();
}

std::optional<RawFde> CfiTable::State::find_raw_fde(uint64_t address) {
  constexpr unsigned kScannedLookups = 4;
  const bool little_endian = binary.getBinary()->isLittleEndian();
  const unsigned address_size = binary.getBinary()->getBytesInAddress();
  if (raw_lookups++ < kScannedLookups) {
    LinearFdeLookup lookup(address);
    scan_raw_frames(debug_frame, little_endian, address_size, std::ref(lookup));
    return lookup.found();
  }
  std::call_once(sorted_once, [&] {
    scan_raw_frames(debug_frame, little_endian, address_size, [&](const RawFde& fde) { sorted_fdes.push_back(fde); });
    std::stable_sort(sorted_fdes.begin(), sorted_fdes.end(),
                     [](const RawFde& a, const RawFde& b) { return a.start < b.start; });
  });
  auto after = std::upper_bound(sorted_fdes.begin(), sorted_fdes.end(), address,
                                [](uint64_t value, const RawFde& fde) { return value < fde.start; });
  // As FdeIndex::find: past zero-length FDEs that share a start.
  while (after != sorted_fdes.begin()) {
    --after;
    if (address < after->end) return *after;
    if (after->end > after->start) break;
  }
  return std::nullopt;
}

Expected<std::optional<CfiRow>> CfiTable::State::find_raw(uint64_t address) {
  const std::optional<RawFde> fde = find_raw_fde(address);
  if (!fde) return std::optional<CfiRow>();
  // The CIE, then the FDE pointing at it (offset 0), as a table of their own.
  std::string bytes;
  bytes.reserve(fde->cie_size + fde->size);
  bytes.append(debug_frame.substr(fde->cie_offset, fde->cie_size));
  bytes.append(debug_frame.substr(fde->offset, fde->size));
  uint32_t length = 0;
  std::memcpy(&length, bytes.data() + fde->cie_size, sizeof length);
  const bool dwarf64 = length == 0xffffffff;
  std::memset(bytes.data() + fde->cie_size + (dwarf64 ? 12 : 4), 0, dwarf64 ? 8 : 4);
  const llvm::object::ObjectFile& object = *binary.getBinary();
  llvm::DWARFDataExtractor data(llvm::StringRef(bytes), object.isLittleEndian(),
                                static_cast<uint8_t>(object.getBytesInAddress()));
  llvm::DWARFDebugFrame frames(object.getArch(), /*IsEH=*/false);
  if (llvm::Error error = frames.parse(data))
    return make_error(Errc::corrupt, "{}: .debug_frame FDE at offset {:#x}: {}", path, fde->offset,
                      llvm_message(std::move(error)));
  for (const llvm::dwarf::FrameEntry& entry : frames.entries())
    if (const auto* parsed = llvm::dyn_cast<llvm::dwarf::FDE>(&entry))
      return row_at(*parsed, fde->end, address, ".debug_frame", fde->offset);
  return make_error(Errc::corrupt, "{}: .debug_frame FDE at offset {:#x} did not parse as one", path, fde->offset);
}

Expected<std::optional<CfiRow>> CfiTable::State::row_at(const llvm::dwarf::FDE& fde, uint64_t end, uint64_t address,
                                                        std::string_view section, uint64_t fde_offset) const {
  auto unwind_table = fde.getLinkedCIE()
                          ? llvm::dwarf::UnwindTable::create(&fde)
                          : llvm::Expected<llvm::dwarf::UnwindTable>(llvm::createStringError(
                                llvm::inconvertibleErrorCode(), "no CIE at its CIE pointer"));
  if (!unwind_table)
    return make_error(Errc::corrupt, "{}: {} FDE at offset {:#x}: {}", path, section, fde_offset,
                      llvm_message(unwind_table.takeError()));
  // Rows are in address order; the last one at or below the address holds.
  const llvm::dwarf::UnwindRow* found = nullptr;
  for (const llvm::dwarf::UnwindRow& row : *unwind_table) {
    if (!row.hasAddress()) continue;
    if (row.getAddress() <= address) {
      found = &row;
    } else {
      end = row.getAddress();
      break;
    }
  }
  if (!found) return std::optional<CfiRow>();  // the FDE's instructions start after address

  CfiRow result;
  result.start = found->getAddress() + bias;
  result.end = end + bias;
  result.return_address_register = static_cast<unsigned>(fde.getLinkedCIE()->getReturnAddressRegister());
  const llvm::dwarf::UnwindLocation& cfa = found->getCFAValue();
  if (cfa.getLocation() == llvm::dwarf::UnwindLocation::RegPlusOffset && !is_dereference(cfa)) {
    result.cfa_register = cfa.getRegister();
    result.cfa_offset = cfa.getOffset();
  } else {
    result.cfa_supported = false;
  }
  result.rules = translate_rules(found->getRegisterLocations());
  return std::optional<CfiRow>(std::move(result));
}

}  // namespace coroner::symbols
