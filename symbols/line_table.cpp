#include "symbols/line_table.hpp"
#include "symbols/section_load_info.hpp"

#include "symbols/elf_file.hpp"

#include <llvm/BinaryFormat/ELF.h>
#include <llvm/DebugInfo/DIContext.h>
#include <llvm/DebugInfo/DWARF/DWARFCompileUnit.h>
#include <llvm/DebugInfo/DWARF/DWARFContext.h>
#include <llvm/DebugInfo/DWARF/DWARFDebugLine.h>
#include <llvm/DebugInfo/DWARF/DWARFUnit.h>

#include <mutex>
#include <unordered_map>
#include <vector>

namespace coroner::symbols {

namespace {


// A loaded section of a relocatable object: its run-time range and index.
// A relocated line table keys its rows by the section they belong to.
struct PlacedRange {
  uint64_t start = 0;
  uint64_t size = 0;
  uint64_t index = 0;
};

// The code a compile unit of a module covers.
struct UnitRange {
  uint64_t low = 0;
  uint64_t high = 0;
  llvm::DWARFCompileUnit* unit = nullptr;
};

}  // namespace

struct LineTable::State {
  llvm::object::OwningBinary<llvm::object::ObjectFile> binary;
  std::unique_ptr<SectionLoadInfo> placed;
  std::unique_ptr<llvm::DWARFContext> owned_context;
  llvm::DWARFContext* context = nullptr;  // owned_context, or a DebugInfo's
  std::vector<PlacedRange> ranges;
  // A module's units by address: LLVM reads .debug_aranges without applying
  // relocations, so its own lookup finds no unit in a relocatable object.
  std::vector<UnitRange> units;
  bool relocatable = false;
  std::mutex mutex;  // DWARFContext parses line tables on demand
  // The inline chains asked for, with lines and without: `foreach bt` asks
  // for the same return addresses (__schedule, worker_thread, ...) once per
  // task.
  std::unordered_map<uint64_t, std::vector<InlineFrame>> inlined[2];
};

LineTable::~LineTable() = default;

Expected<std::unique_ptr<LineTable>> LineTable::open(const std::string& path, const SectionAddresses* sections) {
  std::unique_ptr<LineTable> table(new LineTable());
  table->path_ = path;
  table->state_ = std::make_unique<State>();
  State& state = *table->state_;
  CORONER_TRY(binary, open_elf(path));
  state.binary = std::move(binary);
  const llvm::object::ObjectFile& object = *state.binary.getBinary();
  const bool relocatable = as_elf(object).getEType() == llvm::ELF::ET_REL;
  state.relocatable = relocatable;

  bool has_lines = false;
  for (const llvm::object::SectionRef& section : object.sections()) {
    auto name = section.getName();
    if (!name) return make_error(Errc::corrupt, "{}: {}", path, llvm_message(name.takeError()));
    if (*name == ".debug_line") has_lines = section.getSize() > 0;
    if (sections && relocatable)
      if (auto placed = sections->find(name->str()); placed != sections->end())
        state.ranges.push_back({placed->second, section.getSize(), section.getIndex()});
  }
  if (!has_lines) return make_error(Errc::not_found, "{}: no DWARF line table (.debug_line)", path);

  if (sections) state.placed = std::make_unique<SectionLoadInfo>(*sections);
  // LLVM reports unreadable parts through these handlers; a lookup there
  // then simply finds no line.
  auto ignore = [](llvm::Error error) { llvm::consumeError(std::move(error)); };
  // A linked vmlinux's DWARF is final: its kept .rela.debug_* must not be
  // applied again (and would cost seconds).
  state.owned_context = llvm::DWARFContext::create(object,
                                                   relocatable ? llvm::DWARFContext::ProcessDebugRelocations::Process
                                                               : llvm::DWARFContext::ProcessDebugRelocations::Ignore,
                                                   state.placed.get(), "", ignore, ignore);
  state.context = state.owned_context.get();
  if (relocatable)
    for (const auto& unit : state.context->compile_units()) {
      auto ranges = unit->getUnitDIE().getAddressRanges();
      if (!ranges) {
        llvm::consumeError(ranges.takeError());
        continue;
      }
      for (const llvm::DWARFAddressRange& range : *ranges)
        if (auto* compile_unit = llvm::dyn_cast<llvm::DWARFCompileUnit>(unit.get()))
          state.units.push_back({range.LowPC, range.HighPC, compile_unit});
    }
  return table;
}

Expected<std::unique_ptr<LineTable>> LineTable::over(const DebugInfo& info) {
  if (!info.has_dwarf())
    return make_error(Errc::not_found, "{}: no DWARF (types from BTF): line numbers/locals need the vmlinux", info.path());
  if (info.dwarf_context().getDWARFObj().getLineSection().Data.empty())
    return make_error(Errc::not_found, "{}: no DWARF line table (.debug_line)", info.path());
  std::unique_ptr<LineTable> table(new LineTable());
  table->path_ = info.path();
  table->state_ = std::make_unique<State>();
  table->state_->context = &info.dwarf_context();
  return table;
}

// The unit that holds an address, the address as its line table keys it,
// and the functions active there (innermost inlined first).
struct LineTable::Location {
  llvm::DWARFCompileUnit* unit = nullptr;
  llvm::object::SectionedAddress where;
  llvm::SmallVector<llvm::DWARFDie, 4> chain;
};

// Callers hold state.mutex.
LineTable::Location LineTable::locate(uint64_t address) const {
  State& state = *state_;
  llvm::object::SectionedAddress where{address, llvm::object::SectionedAddress::UndefSection};
  for (const PlacedRange& range : state.ranges)
    if (address >= range.start && address - range.start < range.size) where.SectionIndex = range.index;
  llvm::DWARFCompileUnit* unit = nullptr;
  if (state.relocatable) {
    for (const UnitRange& range : state.units)
      if (address >= range.low && address < range.high) unit = range.unit;
  } else {
    unit = state.context->getCompileUnitForCodeAddress(address);
  }
  Location location{unit, where, {}};
  if (unit) unit->getInlinedChainForAddress(address, location.chain);
  return location;
}

std::optional<SourceLine> LineTable::line_for_address(uint64_t address) const {
  State& state = *state_;
  std::lock_guard lock(state.mutex);
  auto [unit, where, chain] = locate(address);
  if (!unit) return std::nullopt;
  const llvm::DWARFDebugLine::LineTable* rows = state.context->getLineTableForUnit(unit);
  llvm::DILineInfo info;
  if (!rows || !rows->getFileLineInfoForAddress(where, unit->getCompilationDir(),
                                                llvm::DILineInfoSpecifier::FileLineInfoKind::AbsoluteFilePath, info))
    return std::nullopt;
  if (info.Line == 0) return std::nullopt;
  SourceLine line;
  line.file = info.FileName;
  line.line = info.Line;
  // The innermost (inlined) function holds the line the row names.
  if (!chain.empty())
    if (const char* name = chain.front().getSubroutineName(llvm::DINameKind::ShortName)) line.function = name;
  return line;
}

std::vector<InlineFrame> LineTable::inlined_frames(uint64_t address, bool lines) const {
  State& state = *state_;
  std::lock_guard lock(state.mutex);
  auto& known = state.inlined[lines ? 1 : 0];
  if (auto found = known.find(address); found != known.end()) return found->second;
  std::vector<InlineFrame>& frames = known[address];
  auto [unit, where, chain] = locate(address);
  if (chain.empty()) return {};
  if (!lines) {
    for (const llvm::DWARFDie& die : chain) {
      const char* name = die.getSubroutineName(llvm::DINameKind::ShortName);
      frames.push_back({name ? name : "", "", 0});
    }
    return frames;
  }
  const llvm::DWARFDebugLine::LineTable* rows = state.context->getLineTableForUnit(unit);
  const auto kind = llvm::DILineInfoSpecifier::FileLineInfoKind::AbsoluteFilePath;
  for (size_t i = 0; i < chain.size(); ++i) {
    InlineFrame frame;
    if (const char* name = chain[i].getSubroutineName(llvm::DINameKind::ShortName)) frame.function = name;
    if (i == 0) {
      llvm::DILineInfo info;
      if (rows && rows->getFileLineInfoForAddress(where, unit->getCompilationDir(), kind, info)) {
        frame.file = info.FileName;
        frame.line = info.Line;
      }
    } else {
      // Execution in an outer function is at the call site of the inner one.
      uint32_t file = 0, line = 0, column = 0, discriminator = 0;
      chain[i - 1].getCallerFrame(file, line, column, discriminator);
      frame.line = line;
      if (rows) rows->getFileNameByIndex(file, unit->getCompilationDir(), kind, frame.file);
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

std::vector<FunctionVariables> LineTable::frame_variables(uint64_t address) const {
  State& state = *state_;
  std::lock_guard lock(state.mutex);
  return collect_frame_variables(locate(address).chain, address, state.relocatable);
}

}  // namespace coroner::symbols
