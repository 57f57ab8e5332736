#include "capture/format/elf_vmcore.hpp"

#include "capture/format/vmcoreinfo.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <queue>
#include <tuple>

namespace coroner {

bool looks_like_elf(std::span<const std::byte> head) {
  return head.size() >= SELFMAG && std::memcmp(head.data(), ELFMAG, SELFMAG) == 0;
}

namespace {

// Who wrote the file; only changes description().
enum class Producer { unknown, kernel, qemu, makedumpfile };

// e_flags bit makedumpfile -E (and coroner-capture -E) sets while the dump
// is being written and clears once it is complete (DUMP_ELF_INCOMPLETE).
constexpr uint32_t kElfIncompleteFlag = 0x1;

// A PT_LOAD as the file states it (already bounds-checked).
struct LoadSegment {
  uint64_t paddr = 0, vaddr = 0, memsz = 0, filesz = 0, offset = 0;
  uint32_t flags = 0;
};

// A stretch of physical address space with one meaning: bytes at a file
// offset, or RAM the dump describes but holds no data for.
struct Piece {
  uint64_t start = 0, end = 0;
  bool has_data = false;
  uint64_t file_offset = 0;
};

// The bytes [offset, offset + size) of the file, without a copy when the
// source is mapped. `what` names the structure for the error message.
Expected<std::span<const std::byte>> file_bytes(const ByteSource& source, uint64_t offset, uint64_t size,
                                                std::vector<std::byte>& storage, std::string_view what) {
  if (offset > source.size() || size > source.size() - offset)
    return make_error(Errc::truncated, "{}: {} ({} bytes at offset {:#x}) runs past the end of the file at {:#x}",
                      source.name(), what, size, offset, source.size());
  if (auto view = source.view(offset, size); view.size() == size) return view;
  storage.resize(size);
  CORONER_CHECK(source.read_at(offset, storage));
  return std::span<const std::byte>(storage);
}

// Splits the segments into disjoint pieces. Segments may overlap (x86_64
// /proc/vmcore maps the kernel image twice: its own PT_LOAD and inside the
// RAM segment); where they do, file data wins over a data-less tail, and
// the earlier segment wins among equals.
std::vector<Piece> disjoint_pieces(const std::vector<LoadSegment>& segments) {
  struct Interval {
    uint64_t start, end;
    int priority;  // 0: has data, 1: no data
    size_t segment;
  };
  std::vector<Interval> intervals;
  for (size_t i = 0; i < segments.size(); ++i) {
    const LoadSegment& s = segments[i];
    if (s.filesz > 0) intervals.push_back({s.paddr, s.paddr + s.filesz, 0, i});
    if (s.memsz > s.filesz) intervals.push_back({s.paddr + s.filesz, s.paddr + s.memsz, 1, i});
  }
  std::sort(intervals.begin(), intervals.end(), [](const Interval& a, const Interval& b) { return a.start < b.start; });
  std::vector<uint64_t> bounds;
  for (const Interval& v : intervals) bounds.insert(bounds.end(), {v.start, v.end});
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());

  auto worse = [&](size_t a, size_t b) {  // for a max-heap of the best interval
    return std::tie(intervals[a].priority, intervals[a].segment) > std::tie(intervals[b].priority, intervals[b].segment);
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(worse)> active(worse);
  std::vector<Piece> pieces;
  size_t next = 0;
  for (size_t b = 0; b + 1 < bounds.size(); ++b) {
    uint64_t from = bounds[b], to = bounds[b + 1];
    while (next < intervals.size() && intervals[next].start <= from) active.push(next++);
    // Expired intervals below the top are dropped once they surface; an
    // unexpired one spans all of [from, to) because every end is a bound.
    while (!active.empty() && intervals[active.top()].end <= from) active.pop();
    if (active.empty()) continue;
    const Interval& best = intervals[active.top()];
    const LoadSegment& s = segments[best.segment];
    Piece piece{from, to, best.priority == 0, best.priority == 0 ? s.offset + (from - s.paddr) : 0};
    Piece* last = pieces.empty() ? nullptr : &pieces.back();
    bool continues = last && last->end == from && last->has_data == piece.has_data &&
                     (!piece.has_data || last->file_offset + (last->end - last->start) == piece.file_offset);
    if (continues) last->end = to;
    else pieces.push_back(piece);
  }
  return pieces;
}

class ElfDump final : public Dump {
 public:
  ElfDump(std::shared_ptr<const ByteSource> source, Machine machine, Producer producer, bool incomplete,
          std::vector<LoadSegment> segments, std::vector<ElfNote> notes)
      : source_(std::move(source)),
        files_{source_->name()},
        machine_(machine),
        producer_(producer),
        incomplete_(incomplete),
        segments_(std::move(segments)),
        pieces_(disjoint_pieces(segments_)),
        notes_(std::move(notes)) {
    if (auto text = vmcoreinfo_text()) page_size_ = VmcoreInfo::parse(*text).page_size().value_or(0);
  }

  std::string_view format_name() const override { return "elf"; }
  std::string description() const override {
    std::string text = producer_name();
    if (incomplete_) text += ", INCOMPLETE";
    return text;
  }
  bool incomplete() const override { return incomplete_; }
  Machine machine() const override { return machine_; }
  const std::vector<std::string>& files() const override { return files_; }
  const std::vector<ElfNote>& notes() const override { return notes_; }
  uint64_t page_size() const override { return page_size_; }

  std::vector<VirtualRange> virtual_ranges() const override {
    std::vector<VirtualRange> result;
    // QEMU writes p_vaddr = p_paddr when it has no virtual address (and
    // older QEMU 0): neither is a kernel mapping.
    for (const LoadSegment& s : segments_)
      if (s.vaddr != 0 && s.vaddr != s.paddr) result.push_back({s.vaddr, s.paddr, s.memsz});
    return result;
  }

  std::vector<PhysRange> ranges() const override {
    std::vector<PhysRange> result;
    for (const Piece& p : pieces_) {
      if (!result.empty() && result.back().end() == p.start) result.back().size += p.end - p.start;
      else result.push_back({p.start, p.end - p.start});
    }
    return result;
  }

  Expected<void> read(uint64_t paddr, std::span<std::byte> out) const override {
    uint64_t addr = paddr;
    size_t done = 0;
    while (done < out.size()) {
      auto it = std::upper_bound(pieces_.begin(), pieces_.end(), addr,
                                 [](uint64_t a, const Piece& p) { return a < p.start; });
      if (it == pieces_.begin() || addr >= std::prev(it)->end)
        return make_error(Errc::not_in_dump, "physical address {:#x}: not in dump", addr);
      const Piece& piece = *std::prev(it);
      if (!piece.has_data)
        return make_error(Errc::excluded_by_filter, "physical address {:#x}: page excluded by the dump filter", addr);
      size_t n = static_cast<size_t>(std::min<uint64_t>(out.size() - done, piece.end - addr));
      auto got = source_->read_at(piece.file_offset + (addr - piece.start), out.subspan(done, n));
      if (!got) return got.error().context(fmt::format("physical address {:#x}", addr));
      done += n;
      addr += n;
    }
    return {};
  }

 private:
  std::string producer_name() const {
    switch (producer_) {
      case Producer::kernel: return "ELF vmcore (kernel /proc/vmcore)";
      case Producer::qemu: return "ELF (QEMU dump-guest-memory)";
      case Producer::makedumpfile: return "ELF (makedumpfile -E)";
      case Producer::unknown: break;
    }
    return "ELF vmcore";
  }

  std::shared_ptr<const ByteSource> source_;
  std::vector<std::string> files_;
  Machine machine_;
  Producer producer_;
  bool incomplete_;
  std::vector<LoadSegment> segments_;
  std::vector<Piece> pieces_;  // sorted by start, disjoint
  std::vector<ElfNote> notes_;
  uint64_t page_size_ = 0;
};

Expected<Machine> machine_of(const ByteSource& source, const Elf64_Ehdr& header) {
  switch (header.e_machine) {
    case EM_X86_64: return Machine::x86_64;
    case EM_AARCH64: return Machine::aarch64;
    default: break;
  }
  return make_error(Errc::unsupported,
                    "{}: ELF machine {} (e_machine at offset {:#x}) is not supported; only x86_64 ({}) and "
                    "aarch64 ({})",
                    source.name(), header.e_machine, offsetof(Elf64_Ehdr, e_machine), EM_X86_64, EM_AARCH64);
}

// e_phnum, or with PN_XNUM (65535 or more headers) the count that section
// header 0's sh_info holds instead.
Expected<uint64_t> program_header_count(const ByteSource& source, const Elf64_Ehdr& header) {
  if (header.e_phnum != PN_XNUM) return uint64_t{header.e_phnum};
  std::vector<std::byte> storage;
  CORONER_TRY(bytes, file_bytes(source, header.e_shoff, sizeof(Elf64_Shdr), storage,
                                "section header 0 (e_phnum is PN_XNUM)"));
  Elf64_Shdr section;
  std::memcpy(&section, bytes.data(), sizeof section);
  return uint64_t{section.sh_info};
}

// Who wrote the file, from the marks each writer leaves:
// - QEMU names a note "QEMU" (x86) and writes p_flags 0 on every PT_LOAD;
//   the kernel and kexec-tools always set PF_R|PF_W|PF_X.
// - makedumpfile -E keeps the kernel's PT_LOAD flags but writes the notes
//   right after the program headers (and PN_XNUM's section header); the
//   kernel's /proc/vmcore page-aligns them (Linux 3.11 and later, for mmap).
Producer producer_of(const Elf64_Ehdr& header, uint64_t phnum, const std::vector<Elf64_Phdr>& phdrs,
                     const std::vector<LoadSegment>& segments, const std::vector<ElfNote>& notes) {
  bool qemu_note = std::any_of(notes.begin(), notes.end(), [](const ElfNote& n) { return n.name == "QEMU"; });
  bool unflagged = !segments.empty() &&
                   std::all_of(segments.begin(), segments.end(), [](const LoadSegment& s) { return s.flags == 0; });
  if (qemu_note || unflagged) return Producer::qemu;
  uint64_t headers_end = header.e_phoff + phnum * sizeof(Elf64_Phdr);
  if (header.e_phnum == PN_XNUM) headers_end += sizeof(Elf64_Shdr);
  for (const Elf64_Phdr& ph : phdrs)
    if (ph.p_type == PT_NOTE) return ph.p_offset == headers_end ? Producer::makedumpfile : Producer::kernel;
  return Producer::unknown;
}

}  // namespace

Expected<std::unique_ptr<Dump>> open_elf_dump(std::shared_ptr<const ByteSource> source) {
  const ByteSource& file = *source;
  const std::string& name = file.name();
  std::vector<std::byte> header_storage, table_storage;
  CORONER_TRY(head, file_bytes(file, 0, sizeof(Elf64_Ehdr), header_storage, "ELF header"));
  if (!looks_like_elf(head)) return make_error(Errc::corrupt, "{}: not an ELF file (no \\x7fELF at offset 0)", name);
  Elf64_Ehdr header;
  std::memcpy(&header, head.data(), sizeof header);
  if (header.e_ident[EI_CLASS] != ELFCLASS64)
    return make_error(Errc::unsupported, "{}: ELF class {} at offset {:#x}: only 64-bit ELF dumps are supported", name,
                      header.e_ident[EI_CLASS], EI_CLASS);
  if (header.e_ident[EI_DATA] != ELFDATA2LSB)
    return make_error(Errc::unsupported, "{}: ELF data encoding {} at offset {:#x}: only little-endian is supported",
                      name, header.e_ident[EI_DATA], EI_DATA);
  if (header.e_type != ET_CORE)
    return make_error(Errc::unsupported, "{}: ELF type {} at offset {:#x} is not a core dump (ET_CORE = {})", name,
                      header.e_type, offsetof(Elf64_Ehdr, e_type), ET_CORE);
  CORONER_TRY(machine, machine_of(file, header));
  if (header.e_phentsize != sizeof(Elf64_Phdr))
    return make_error(Errc::corrupt, "{}: e_phentsize {} at offset {:#x}, expected {}", name, header.e_phentsize,
                      offsetof(Elf64_Ehdr, e_phentsize), sizeof(Elf64_Phdr));
  CORONER_TRY(phnum, program_header_count(file, header));
  if (phnum == 0) return make_error(Errc::corrupt, "{}: the ELF header lists no program headers", name);
  // phnum < 2^32, so the product cannot overflow; file_bytes bounds it by the file.
  CORONER_TRY(table, file_bytes(file, header.e_phoff, phnum * sizeof(Elf64_Phdr), table_storage,
                                fmt::format("program header table of {} entries", phnum)));
  std::vector<Elf64_Phdr> phdrs(phnum);
  std::memcpy(phdrs.data(), table.data(), table.size());

  std::vector<LoadSegment> segments;
  std::vector<ElfNote> notes;
  for (uint64_t i = 0; i < phnum; ++i) {
    const Elf64_Phdr& ph = phdrs[i];
    uint64_t at = header.e_phoff + i * sizeof(Elf64_Phdr);
    if (ph.p_type == PT_NOTE) {
      // A few KiB per CPU plus VMCOREINFO; the cap keeps a hostile size
      // from allocating a copy of the whole file on unmapped sources.
      constexpr uint64_t kMaxNoteSegment = 64 << 20;
      if (ph.p_filesz > kMaxNoteSegment)
        return make_error(Errc::corrupt, "{}: PT_NOTE at offset {:#x}: p_filesz {:#x} is implausibly large", name,
                          at, ph.p_filesz);
      std::vector<std::byte> note_storage;
      CORONER_TRY(bytes, file_bytes(file, ph.p_offset, ph.p_filesz, note_storage,
                                    fmt::format("PT_NOTE segment (program header at {:#x})", at)));
      CORONER_TRY(parsed, parse_elf_notes(bytes, name, ph.p_offset));
      std::move(parsed.begin(), parsed.end(), std::back_inserter(notes));
      continue;
    }
    // p_paddr -1 marks a segment without a physical address (kernel text of
    // some architectures); it adds nothing to physical memory.
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0 || ph.p_paddr == ~uint64_t{0}) continue;
    if (ph.p_filesz > ph.p_memsz)
      return make_error(Errc::corrupt, "{}: PT_LOAD at offset {:#x}: p_filesz {:#x} exceeds p_memsz {:#x}", name, at,
                        ph.p_filesz, ph.p_memsz);
    if (ph.p_memsz > ~uint64_t{0} - ph.p_paddr || ph.p_filesz > ~uint64_t{0} - ph.p_offset)
      return make_error(Errc::corrupt,
                        "{}: PT_LOAD at offset {:#x}: physical range {:#x}+{:#x} or file range {:#x}+{:#x} "
                        "wraps around",
                        name, at, ph.p_paddr, ph.p_memsz, ph.p_offset, ph.p_filesz);
    segments.push_back({ph.p_paddr, ph.p_vaddr, ph.p_memsz, ph.p_filesz, ph.p_offset, ph.p_flags});
  }
  if (segments.empty()) return make_error(Errc::corrupt, "{}: no PT_LOAD segment holds physical memory", name);
  Producer producer = producer_of(header, phnum, phdrs, segments, notes);
  return std::unique_ptr<Dump>(
      std::make_unique<ElfDump>(std::move(source), machine, producer, (header.e_flags & kElfIncompleteFlag) != 0,
                                std::move(segments), std::move(notes)));
}

}  // namespace coroner
