#include "capture/format/qemu_cpu_state.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <iterator>

namespace coroner {
namespace {

// QEMU's QEMUCPUSegment and QEMUCPUState as they lie in the note (x86_64
// host ABI, little-endian). Newer QEMU may append fields; `size` says how
// much the writer filled.
struct RawSegment {
  uint32_t selector, limit, flags, pad;
  uint64_t base;
};
struct RawState {
  uint32_t version, size;
  uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rip, rflags;
  RawSegment cs, ds, es, fs, gs, ss, ldt, tr, gdt, idt;
  uint64_t cr[5];
  uint64_t kernel_gs_base;
};
static_assert(sizeof(RawSegment) == 24);
static_assert(offsetof(RawState, cs) == 152 && offsetof(RawState, cr) == 392);
static_assert(sizeof(RawState) == 440);

constexpr uint32_t kSupportedVersion = 1;
// The structure before kernel_gs_base was added.
constexpr size_t kMinimumSize = offsetof(RawState, kernel_gs_base);

QemuSegment segment(const RawSegment& raw) { return {raw.selector, raw.limit, raw.flags, raw.base}; }

}  // namespace

Expected<QemuCpuState> decode_qemu_cpu_state(const ElfNote& note) {
  if (note.desc.size() < 2 * sizeof(uint32_t))
    return make_error(Errc::corrupt, "QEMU note at offset {:#x}: descriptor of {} bytes has no version and size",
                      note.file_offset, note.desc.size());
  RawState raw{};
  std::memcpy(&raw, note.desc.data(), 2 * sizeof(uint32_t));
  if (raw.version != kSupportedVersion)
    return make_error(Errc::unsupported, "QEMU note at offset {:#x}: QEMUCPUState version {} (only {} is known)",
                      note.file_offset, raw.version, kSupportedVersion);
  if (raw.size < kMinimumSize || raw.size > note.desc.size())
    return make_error(Errc::corrupt,
                      "QEMU note at offset {:#x}: QEMUCPUState claims {} bytes; the descriptor has {} and "
                      "version {} needs at least {}",
                      note.file_offset, raw.size, note.desc.size(), raw.version, kMinimumSize);
  std::memcpy(&raw, note.desc.data(), std::min<size_t>(raw.size, sizeof raw));

  QemuCpuState state;
  state.version = raw.version;
  state.size = raw.size;
  state.rax = raw.rax, state.rbx = raw.rbx, state.rcx = raw.rcx, state.rdx = raw.rdx;
  state.rsi = raw.rsi, state.rdi = raw.rdi, state.rsp = raw.rsp, state.rbp = raw.rbp;
  state.r8 = raw.r8, state.r9 = raw.r9, state.r10 = raw.r10, state.r11 = raw.r11;
  state.r12 = raw.r12, state.r13 = raw.r13, state.r14 = raw.r14, state.r15 = raw.r15;
  state.rip = raw.rip, state.rflags = raw.rflags;
  state.cs = segment(raw.cs), state.ds = segment(raw.ds), state.es = segment(raw.es);
  state.fs = segment(raw.fs), state.gs = segment(raw.gs), state.ss = segment(raw.ss);
  state.ldt = segment(raw.ldt), state.tr = segment(raw.tr);
  state.gdt = segment(raw.gdt), state.idt = segment(raw.idt);
  std::copy(std::begin(raw.cr), std::end(raw.cr), state.cr.begin());
  if (raw.size >= sizeof raw) state.kernel_gs_base = raw.kernel_gs_base;
  return state;
}

Expected<std::vector<QemuCpuState>> qemu_cpu_states(std::span<const ElfNote> notes) {
  std::vector<QemuCpuState> states;
  for (const ElfNote& note : notes) {
    if (note.name != kQemuNoteName || note.type != kNtQemuCpuState) continue;
    CORONER_TRY(state, decode_qemu_cpu_state(note));
    states.push_back(state);
  }
  return states;
}

}  // namespace coroner
