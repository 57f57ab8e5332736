// Source lines of machine code from an ELF file's DWARF line table
// (vmlinux, or a module placed at its sections' run-time addresses), for
// `dis -l` and `dis -s`. Only the compile unit that holds an address is
// read, so opening a large vmlinux here costs little.
#pragma once

#include "capture/format/error.hpp"
#include "symbols/debug_info.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace coroner::symbols {

struct SourceLine {
  std::string file;      // as the compiler recorded it (absolute when it could)
  uint32_t line = 0;
  std::string function;  // the innermost function there ("" when unknown)
};

class LineTable {
 public:
  // sections: load addresses of a module's sections (as for DebugInfo::open).
  static Expected<std::unique_ptr<LineTable>> open(const std::string& path, const SectionAddresses* sections = nullptr);
  ~LineTable();

  // The source line of the instruction at address; nullopt when no line
  // table row covers it. address is a run-time address for a placed module,
  // a link-time address otherwise.
  std::optional<SourceLine> line_for_address(uint64_t address) const;

  const std::string& path() const { return path_; }

 private:
  struct State;
  LineTable() = default;
  std::string path_;
  std::unique_ptr<State> state_;
};

}  // namespace coroner::symbols
