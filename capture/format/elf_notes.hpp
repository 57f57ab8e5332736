// ELF notes as dumps carry them (PT_NOTE segments of ELF vmcores, the note
// area of kdump-compressed sub-headers), and decoding of NT_PRSTATUS.
#pragma once

#include "capture/format/error.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace coroner {

enum class Machine;

inline constexpr uint32_t kNtPrstatus = 1;
inline constexpr uint32_t kNtPrfpreg = 2;
inline constexpr uint32_t kNtVmcoreinfo = 0;  // name "VMCOREINFO"
inline constexpr uint32_t kNtQemuCpuState = 0;  // name "QEMU"

struct ElfNote {
  std::string name;  // without the trailing NUL
  uint32_t type = 0;
  std::vector<std::byte> desc;
  uint64_t file_offset = 0;  // where the note header starts in the file
};

// Parses a buffer of 4-byte aligned ELF notes (Elf64_Nhdr). `file_offset`
// is the buffer's position in `file`, used only for error messages. Stops
// cleanly at a run of zero padding; a note that overruns the buffer is an
// error naming its offset.
Expected<std::vector<ElfNote>> parse_elf_notes(std::span<const std::byte> data,
                                               const std::string& file, uint64_t file_offset);

// Decoded struct elf_prstatus.
struct PrStatus {
  int32_t pid = 0;
  // elf_gregset_t in the kernel's order: x86_64 user_regs_struct (27 regs:
  // r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip
  // cs eflags rsp ss fs_base gs_base ds es fs gs); aarch64 user_pt_regs
  // (x0..x30, sp, pc, pstate).
  std::vector<uint64_t> gregs;
};

Expected<PrStatus> decode_prstatus(const ElfNote& note, Machine machine);

}  // namespace coroner
