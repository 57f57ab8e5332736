// x86_64 ORC unwind tables (the kernel's .orc_unwind_ip / .orc_unwind, or a
// module's copy of them): for a code address, where the caller's stack
// pointer, frame pointer and return address are. Pure data: reading the
// tables from a file or from memory and applying an entry to registers is
// the unwinder's job (analyzer/unwind/x86_64/).
#pragma once

#include "capture/format/error.hpp"
#include "symbols/debug_info.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::symbols {

// ORC_REG_*: the base register of the caller's stack pointer (sp_reg) or
// frame pointer (bp_reg). The same numbers in every kernel version; other
// values of the 4-bit fields are kept as they are (and refused when used).
enum class OrcRegister : uint8_t {
  undefined = 0,  // sp: no unwind information; bp: unchanged in the caller
  prev_sp = 1,    // the CFA (the caller's stack pointer)
  dx = 2,
  di = 3,
  bp = 4,
  sp = 5,
  r10 = 6,
  r13 = 7,
  bp_indirect = 8,
  sp_indirect = 9,
};

// Entry types, normalized over the kernel's numberings.
enum class OrcType : uint8_t {
  undefined,     // no unwind information here (a gap or section terminator)
  end_of_stack,  // the outermost frame of a kernel stack
  call,          // an ordinary frame: the return address is at CFA - 8
  regs,          // a full struct pt_regs at the CFA (exception/syscall entry)
  regs_partial,  // only the hardware iret frame (ip, cs, flags, sp, ss) at the CFA
  unknown,       // a type value this layout does not define (raw_type)
};

struct OrcEntry {
  int16_t sp_offset = 0;
  int16_t bp_offset = 0;
  OrcRegister sp_reg = OrcRegister::undefined;
  OrcRegister bp_reg = OrcRegister::undefined;
  OrcType type = OrcType::undefined;
  uint8_t raw_type = 0;  // the type field as stored
  // The caller's pc is where it was interrupted, not a return address (look
  // it up as is): the signal bit since 6.3, the pt_regs types before.
  bool signal = false;
  // Before 6.4: with sp_reg undefined, the end of the stack (else a gap).
  bool end = false;
};

// Where the fields sit in the entry's third 16-bit word, and how types are
// numbered. Layouts (bit: field):
//   before 6.3: 0 sp_reg:4, 4 bp_reg:4, 8 type:2, 10 end:1
//   6.3:        0 sp_reg:4, 4 bp_reg:4, 8 type:2, 10 signal:1, 11 end:1
//   since 6.4:  0 sp_reg:4, 4 bp_reg:4, 8 type:3, 11 signal:1
// Before 6.4 types are CALL 0, REGS 1, REGS_PARTIAL 2 and an undefined
// sp_reg marks gaps and stack ends; from 6.4 UNDEFINED 0, END_OF_STACK 1,
// CALL 2, REGS 3, REGS_PARTIAL 4.
struct OrcFormat {
  unsigned sp_reg_shift = 0;
  unsigned bp_reg_shift = 4;
  unsigned type_shift = 8;
  unsigned type_bits = 2;
  std::optional<unsigned> end_shift = 10;
  std::optional<unsigned> signal_shift;
  bool explicit_end_types = false;  // the 6.4 numbering

  static OrcFormat before_6_3();
  static OrcFormat linux_6_3();
  static OrcFormat since_6_4();
  // The layout of a kernel release ("6.1.0-18-amd64", "4.18.0-553.el8").
  static OrcFormat for_release(std::string_view osrelease);
  // The layout struct orc_entry has in the kernel's DWARF (its `end` and
  // `signal` members decide the numbering). An error when the type is
  // missing or its fields are not where an entry's flags word can hold them.
  static Expected<OrcFormat> from_debug_info(DebugInfo& debug_info);

  OrcEntry decode(int16_t sp_offset, int16_t bp_offset, uint16_t flags) const;
  bool operator==(const OrcFormat&) const = default;
};

// The two arrays of a table and what keeps their bytes alive: buffers read
// from a dump (owning()) or the mapped vmlinux the sections lie in.
struct OrcArrays {
  std::span<const std::byte> ips;      // .orc_unwind_ip: s32 each, relative to its own address
  uint64_t ip_address = 0;             // the run-time address of ips[0]
  std::span<const std::byte> entries;  // .orc_unwind
  std::shared_ptr<const void> owner;

  static OrcArrays owning(std::vector<std::byte> ips, uint64_t ip_address, std::vector<std::byte> entries);
};

// Lookups binary-search the arrays where they lie: vmlinux's tables (half a
// million entries) are neither copied nor widened, which spared a session
// the page faults of 7 MiB of new memory.
class OrcTable {
 public:
  static constexpr size_t kIpSize = 4;     // s32, relative to its own address
  static constexpr size_t kEntrySize = 6;  // s16 sp_offset, s16 bp_offset, u16 flags

  // One entry per ip. `where` names the source in errors ("vmlinux",
  // "module fx_crash"). Tables the kernel would have sorted at boot (before
  // build-time sorting, 5.6) are sorted the same way here, into new arrays.
  static Expected<OrcTable> build(OrcArrays arrays, const OrcFormat& format, std::string_view where);

  // The entry of the greatest ip <= address (the last of equal ips); nullopt
  // below the first ip or for an empty table.
  std::optional<OrcEntry> find(uint64_t address) const;

  size_t size() const { return arrays_.ips.size() / kIpSize; }
  const OrcFormat& format() const { return format_; }
  // Same ips, entries and layout (a table read from the dump against the file's).
  bool operator==(const OrcTable& other) const;

 private:
  uint64_t ip(size_t i) const;
  uint16_t flags(size_t i) const;
  OrcEntry entry(size_t i) const;

  OrcArrays arrays_;
  OrcFormat format_;
};

}  // namespace coroner::symbols
