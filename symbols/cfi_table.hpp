// DWARF call frame information (.debug_frame, .eh_frame) of an ELF file,
// read through LLVM's DWARFDebugFrame: for a code address, the rule that
// gives the canonical frame address (CFA) and where each register of the
// caller was saved. Pure data: applying a row to registers and memory is
// the unwinder's job (analyzer/unwind/cfi_step).
#pragma once

#include "capture/format/error.hpp"
#include "symbols/section_addresses.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace coroner::symbols {

struct CfiRule {
  enum class Kind {
    undefined,      // the caller's value is not recoverable
    same_value,     // unchanged in the caller
    at_cfa_offset,  // saved in memory at CFA + offset
    is_cfa_offset,  // the value is CFA + offset
    in_register,    // held in register `reg` (DWARF number)
    unsupported,    // a DWARF expression or other rule this reader does not evaluate
  };
  Kind kind = Kind::undefined;
  int64_t offset = 0;
  unsigned reg = 0;
};

struct CfiRow {
  uint64_t start = 0;  // run-time addresses this row covers: [start, end)
  uint64_t end = 0;
  bool cfa_supported = true;  // false: the CFA is a DWARF expression
  unsigned cfa_register = 0;  // DWARF number
  int64_t cfa_offset = 0;
  // Rules of registers the function saved or changed (DWARF numbers);
  // registers not listed keep their value (callee-saved) or are unknown.
  std::vector<std::pair<unsigned, CfiRule>> rules;
  unsigned return_address_register = 0;
};

class CfiTable {
 public:
  // Reads .debug_frame and .eh_frame of path. `bias` is added to link-time
  // addresses (vmlinux: the KASLR slide); `sections` places a relocatable
  // module's sections. A file without either section is an error naming it.
  static Expected<std::unique_ptr<CfiTable>> open(const std::string& path, int64_t bias,
                                                  const SectionAddresses* sections = nullptr);
  ~CfiTable();

  // The row that holds run-time address pc; nullopt when no FDE covers it.
  // Errors name the file and the offset of a malformed FDE.
  Expected<std::optional<CfiRow>> find(uint64_t pc) const;

 private:
  struct State;
  CfiTable() = default;
  std::unique_ptr<State> state_;
};

}  // namespace coroner::symbols
