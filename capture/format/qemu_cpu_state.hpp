// QEMU's own per-CPU note in x86 dump-guest-memory ELF dumps (name "QEMU",
// type 0): the register state QEMU held for each vCPU, including what an
// NT_PRSTATUS cannot carry (control registers, descriptor tables, hidden
// segment bases). Layout: QEMU's struct QEMUCPUState, version 1.
#pragma once

#include "capture/format/elf_notes.hpp"
#include "capture/format/error.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace coroner {

// A segment register or descriptor-table register as QEMU caches it.
struct QemuSegment {
  uint32_t selector = 0;
  uint32_t limit = 0;
  uint32_t flags = 0;  // QEMU's DESC_* bits (type, DPL, present, L, ...)
  uint64_t base = 0;
};

struct QemuCpuState {
  uint32_t version = 0;
  uint32_t size = 0;  // bytes of the structure the writer used
  uint64_t rax = 0, rbx = 0, rcx = 0, rdx = 0, rsi = 0, rdi = 0, rsp = 0, rbp = 0;
  uint64_t r8 = 0, r9 = 0, r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
  uint64_t rip = 0, rflags = 0;
  QemuSegment cs, ds, es, fs, gs, ss, ldt, tr, gdt, idt;
  std::array<uint64_t, 5> cr{};  // cr0 .. cr4
  // MSR_KERNEL_GS_BASE; absent from notes of older QEMU releases (size 432).
  std::optional<uint64_t> kernel_gs_base;
};

inline constexpr char kQemuNoteName[] = "QEMU";

// Decodes one "QEMU" note. Fails on another version or a size that does not
// fit the note.
Expected<QemuCpuState> decode_qemu_cpu_state(const ElfNote& note);

// Every "QEMU" note of `notes` decoded, in file order (one per vCPU).
Expected<std::vector<QemuCpuState>> qemu_cpu_states(std::span<const ElfNote> notes);

}  // namespace coroner
