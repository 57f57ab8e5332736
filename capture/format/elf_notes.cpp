#include "capture/format/elf_notes.hpp"

#include "capture/format/dump.hpp"

#include <elf.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace coroner {

// Dumps are little-endian and so is every host coroner runs on (x86_64,
// aarch64): note headers and register sets are copied, not byte-swapped.
static_assert(std::endian::native == std::endian::little, "coroner reads little-endian dumps on little-endian hosts");

namespace {

uint64_t align4(uint64_t n) { return (n + 3) & ~uint64_t{3}; }

bool all_zero(std::span<const std::byte> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

}  // namespace

Expected<std::vector<ElfNote>> parse_elf_notes(std::span<const std::byte> data, const std::string& file,
                                               uint64_t file_offset) {
  std::vector<ElfNote> notes;
  uint64_t pos = 0;
  while (pos < data.size()) {
    uint64_t at = file_offset + pos;
    std::span<const std::byte> rest = data.subspan(pos);
    // Writers pad note segments with zeros (old kernels: one page-sized
    // PT_NOTE per CPU); a zero header or a zero tail ends the notes.
    if (rest.size() < sizeof(Elf64_Nhdr)) {
      if (all_zero(rest)) break;
      return make_error(Errc::corrupt, "{}: ELF note header at offset {:#x} is cut off by the end of the note segment",
                        file, at);
    }
    Elf64_Nhdr header;
    std::memcpy(&header, rest.data(), sizeof header);
    if (header.n_namesz == 0 && header.n_descsz == 0 && header.n_type == 0) break;
    uint64_t name_at = sizeof header;
    uint64_t desc_at = name_at + align4(header.n_namesz);
    uint64_t end = desc_at + align4(header.n_descsz);
    // The descriptor's own padding may be missing after the last note.
    if (desc_at + header.n_descsz > rest.size())
      return make_error(Errc::corrupt,
                        "{}: ELF note at offset {:#x} (name size {}, descriptor size {}) overruns its segment, "
                        "which ends at offset {:#x}",
                        file, at, header.n_namesz, header.n_descsz, file_offset + data.size());
    ElfNote note;
    const char* name = reinterpret_cast<const char*>(rest.data() + name_at);
    note.name.assign(name, strnlen(name, header.n_namesz));
    note.type = header.n_type;
    auto desc = rest.subspan(desc_at, header.n_descsz);
    note.desc.assign(desc.begin(), desc.end());
    note.file_offset = at;
    notes.push_back(std::move(note));
    pos += std::min<uint64_t>(end, rest.size());
  }
  return notes;
}

namespace {

// struct elf_prstatus on 64-bit Linux: pr_info (12) + pr_cursig (2, padded
// to 4), pr_sigpend and pr_sighold (8 each), then pr_pid at 32, pr_ppid,
// pr_pgrp, pr_sid, four struct timevals (16 each), and pr_reg at 112.
constexpr size_t kPrPidOffset = 32;
constexpr size_t kPrRegOffset = 112;

size_t gregs_count(Machine machine) {
  switch (machine) {
    case Machine::x86_64: return 27;   // struct user_regs_struct
    case Machine::aarch64: return 34;  // struct user_pt_regs
    case Machine::unknown: break;
  }
  return 0;
}

}  // namespace

Expected<PrStatus> decode_prstatus(const ElfNote& note, Machine machine) {
  size_t count = gregs_count(machine);
  if (count == 0)
    return make_error(Errc::unsupported, "NT_PRSTATUS note at offset {:#x}: no register layout for machine {}",
                      note.file_offset, machine_name(machine));
  size_t needed = kPrRegOffset + count * sizeof(uint64_t);
  if (note.desc.size() < needed)
    return make_error(Errc::corrupt,
                      "NT_PRSTATUS note at offset {:#x}: descriptor has {} bytes, {} needs at least {}",
                      note.file_offset, note.desc.size(), machine_name(machine), needed);
  PrStatus status;
  std::memcpy(&status.pid, note.desc.data() + kPrPidOffset, sizeof status.pid);
  status.gregs.resize(count);
  std::memcpy(status.gregs.data(), note.desc.data() + kPrRegOffset, count * sizeof(uint64_t));
  return status;
}

}  // namespace coroner
