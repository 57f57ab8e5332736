// makedumpfile's filter config (makedumpfile.conf(5): erase commands and
// for loops) as coroner-capture runs it in a capture kernel, which has no
// debug info: every symbol address, member offset, type size and array
// length was resolved in advance from the vmlinux's DWARF by `coroner
// erase-offsets`, which writes this "erase offsets" text:
//
//   coroner-erase-offsets 1
//   build-id HEX                              (the vmlinux's; checked against VMCOREINFO's BUILD-ID)
//   modules sym:HEX list N name N kallsyms N symtab N num_symtab N strtab N
//                                             (where `mod:` REFs are looked up: the `modules` list, the
//                                             offsets in struct module and struct mod_kallsyms)
//   erase LABEL REF size N | string | size-at REF width W | nullify
//   for LABEL array REF count N stride S      (elements at REF + i*S)
//   for LABEL pointers REF count N            (elements *(REF + i*8), NULLs skipped)
//   for LABEL array REF count-at REF width W stride S
//   for LABEL pointers REF count-at REF width W
//                                             (coroner's: the count is the W-byte integer at the
//                                             second REF; past 2^20 it is an error naming its address)
//   for LABEL via REF next OFF                (REF, then *(elem + OFF), until NULL or back at REF)
//   for LABEL list REF member OFF             (REF a list_head: node = node->next until REF; elem = node - OFF)
//   for LABEL rbtree REF member OFF left L right R
//                                             (coroner's: REF an rb_root; its nodes in order, the
//                                             children at node + L and node + R; elem = node - OFF)
//   for LABEL one REF                         (coroner's: the one element REF, none when a pointer is NULL)
//     erase ...                               (REFs may start at `elem`)
//     for ...                                 (loops nest, up to 8 deep)
//     endfor
//   endfor
//
// A `for` line may end with `if REF is SYMBOL...` (coroner's; each SYMBOL a
// `sym:HEX` or `mod:MODULE:SYMBOL`): the loop runs only when the pointer at
// REF is one of those addresses (a symbol of a module not loaded is none).
// A REF is a start, `sym:HEX` (a link-time address; KERNELOFFSET is added),
// `mod:MODULE:SYMBOL` (a module's symbol, found in the dying kernel through
// the module's kallsyms; nothing is erased when the module is not loaded),
// `elem` (the innermost loop's element) or `elemN` (the element of the
// enclosing loop N deep, 1 the outermost), then steps: `+N` adds N, `*`
// reads the pointer there. LABEL is the config's expression (for
// messages). Lines starting with '#' are comments. What is erased is what
// makedumpfile erases: the bytes written with 'X', a nullified pointer
// with zeros.
#pragma once

#include "analyzer/arch/kernel_memory.hpp"
#include "capture/format/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner::capture {

struct EraseRef {
  unsigned element = 0;  // the element of the loop this deep (1 the outermost); 0: the `sym:` or `mod:` address
  uint64_t address = 0;
  std::string module, symbol;  // `mod:`
  std::vector<int64_t> steps;  // an offset to add, or kDeref
  static constexpr int64_t kDeref = INT64_MIN;
};

struct EraseCommand {
  enum class Size { fixed, string, from_memory, nullify };
  std::string label;
  int line = 0;
  EraseRef target;
  Size size_kind = Size::fixed;
  uint64_t size = 0;   // fixed
  EraseRef size_ref;   // from_memory
  unsigned width = 0;  // from_memory: bytes of the integer
};

// A loop, or (`once`) commands run once with the enclosing loops' elements.
struct EraseLoop {
  enum class Kind { once, array, pointers, via, list, rbtree, one };
  std::string label;
  int line = 0;
  Kind kind = Kind::array;
  unsigned depth = 0;   // 1 for a loop outside loops; a `once` block: its enclosing loop's
  EraseRef start;
  uint64_t count = 0;   // array, pointers
  std::optional<EraseRef> count_ref;  // array, pointers: `count-at`, the count's address (then `count` is unused)
  unsigned count_width = 0;           // its bytes
  uint64_t stride = 0;  // array
  uint64_t offset = 0;  // via: the next member; list, rbtree: the list_head or rb_node member
  uint64_t left = 0, right = 0;  // rbtree: rb_node's rb_left and rb_right
  std::optional<EraseRef> condition;  // `if REF is ...`
  std::vector<EraseRef> condition_values;  // `sym:` or `mod:` refs without steps
  std::vector<EraseCommand> commands;  // once
  std::vector<EraseLoop> body;         // loops: in file order, a run of commands is a `once` block
};

// The `modules` line.
struct ModuleLayout {
  uint64_t modules = 0;  // link-time address of the list head
  uint64_t list = 0, name = 0, kallsyms = 0;       // in struct module
  uint64_t symtab = 0, num_symtab = 0, strtab = 0;  // in struct mod_kallsyms
};

struct EraseProgram {
  std::string build_id;           // empty when the file names none
  std::optional<ModuleLayout> modules;
  std::vector<EraseLoop> blocks;  // in file order; commands outside loops are `once` blocks
};

// Parses the erase offsets text; errors name `path` and the line.
Expected<EraseProgram> parse_erase_offsets(std::string_view text, const std::string& path);

// A stretch of kernel memory to overwrite, by virtual address.
struct EraseRange {
  uint64_t vaddr = 0;
  uint64_t size = 0;
  std::byte fill{'X'};        // zeros for nullify
  std::string label;          // the command's expression (kdump's erase info)
};

// makedumpfile's erase info text of what was erased ("erase LABEL size N"
// or "erase LABEL nullify", a line per range), which kdump files carry.
std::string erase_info_text(const std::vector<EraseRange>& ranges);

// Runs the program against the dying kernel's memory. A NULL pointer on the
// way skips that command (as in makedumpfile); a read that fails is an
// error naming the command's line and the address. `kaslr_offset` is
// VMCOREINFO's KERNELOFFSET.
Expected<std::vector<EraseRange>> evaluate_erase_program(const EraseProgram& program, const KernelMemory& memory,
                                                         uint64_t kaslr_offset);

}  // namespace coroner::capture
