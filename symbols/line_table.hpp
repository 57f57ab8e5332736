// Source lines of machine code from an ELF file's DWARF line table
// (vmlinux, or a module placed at its sections' run-time addresses), for
// `dis -l` and `dis -s`. Only the compile unit that holds an address is
// read, so opening a large vmlinux here costs little.
#pragma once

#include "capture/format/error.hpp"
#include "symbols/debug_info.hpp"
#include "symbols/frame_variables.hpp"

#include <llvm/Object/ObjectFile.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
class DWARFCompileUnit;
}

namespace coroner::symbols {

struct SourceLine {
  std::string file;      // as the compiler recorded it (absolute when it could)
  uint32_t line = 0;
  std::string function;  // the innermost function there ("" when unknown)
};

// One function active at an address: an inlined instance or, last, the
// subprogram that holds them.
struct InlineFrame {
  std::string function;
  std::string file;  // where execution is within this function: the line
  uint32_t line = 0; // table's row for the innermost, the call site of the inner one otherwise
};

class LineTable {
 public:
  // sections: load addresses of a module's sections (as for DebugInfo::open).
  static Expected<std::unique_ptr<LineTable>> open(const std::string& path, const SectionAddresses* sections = nullptr);
  // The line table of a linked file whose DWARF `info` has open already:
  // its mapping and LLVM context (units parsed once, DIEs extracted once)
  // serve both. info must outlive the table.
  static Expected<std::unique_ptr<LineTable>> over(const DebugInfo& info);
  ~LineTable();

  // The source line of the instruction at address; nullopt when no line
  // table row covers it. address is a run-time address for a placed module,
  // a link-time address otherwise.
  std::optional<SourceLine> line_for_address(uint64_t address) const;

  // The functions active at address, innermost (inlined) first, the
  // subprogram last; empty when no compile unit covers address. Without
  // lines, only the functions (file and line empty): the unit's line table,
  // often the larger part of the cost, is then not read.
  std::vector<InlineFrame> inlined_frames(uint64_t address, bool lines = true) const;

  // The parameters and local variables of each function inlined_frames
  // gives at address (same order), with their locations there.
  std::vector<FunctionVariables> frame_variables(uint64_t address) const;

  const std::string& path() const { return path_; }

 private:
  struct State;
  LineTable() = default;
  struct Location;
  Location locate(uint64_t address) const;
  std::string path_;
  std::unique_ptr<State> state_;
};

}  // namespace coroner::symbols
