// KdumpDump: reading pages of an opened kdump-compressed dump.
#include "capture/format/kdump_compressed.hpp"

#include "capture/format/kdump_page_cache.hpp"

#include <algorithm>
#include <array>

namespace coroner {
namespace {

// A few hundred pages, at most 8 MiB of them.
size_t cache_pages(uint64_t page_size) {
  return static_cast<size_t>(std::clamp<uint64_t>((uint64_t{8} << 20) / page_size, 64, 512));
}

// sizeof(struct elf_prstatus) of each machine, to name the machine of a
// QEMU dump whose header says "Unknown" (QEMU fills utsname.machine only
// for some targets).
constexpr size_t kPrstatusSizeX86_64 = 336;
constexpr size_t kPrstatusSizeAarch64 = 392;

}  // namespace

KdumpDump::KdumpDump(std::vector<Part> parts, kdump::PageBitmap in_memory, std::vector<ElfNote> notes,
                     std::optional<std::string> vmcoreinfo, std::vector<std::string> files, bool flattened,
                     bool truncated)
    : parts_(std::move(parts)),
      in_memory_(std::move(in_memory)),
      notes_(std::move(notes)),
      vmcoreinfo_(std::move(vmcoreinfo)),
      files_(std::move(files)),
      block_size_(static_cast<uint32_t>(parts_.front().header.block_size)),
      max_mapnr_(kdump::max_mapnr_of(parts_.front().header, parts_.front().sub)),
      flattened_(flattened),
      truncated_(truncated),
      cache_(std::make_unique<KdumpPageCache>(block_size_, cache_pages(block_size_))) {
  auto runs = in_memory_.runs();
  ranges_.reserve(runs.size());
  for (auto [first, end] : runs) ranges_.push_back({first * block_size_, (end - first) * block_size_});
}

KdumpDump::~KdumpDump() = default;

std::string_view KdumpDump::format_name() const {
  if (parts_.size() > 1) return "split";
  return flattened_ ? "flattened" : "kdump";
}

PageCodec KdumpDump::codec() const { return kdump::codec_of_flags(status()).value_or(PageCodec::none); }

std::string KdumpDump::description() const {
  PageCodec announced = codec();
  std::string text = fmt::format("kdump-compressed ({})",
                                 announced == PageCodec::none ? "uncompressed" : codec_name(announced));
  if (auto level = dump_level()) text += fmt::format(", dump level {}", *level);
  if (flattened_) text += ", flattened";
  if (parts_.size() > 1) text += fmt::format(", split into {} files", parts_.size());
  if (marked_incomplete()) text += ", INCOMPLETE";
  if (truncated_) text += ", TRUNCATED (the file ends before its last pages)";
  return text;
}

Machine KdumpDump::machine() const {
  const std::string& name = header().utsname.machine;
  if (name == "x86_64") return Machine::x86_64;
  if (name == "aarch64" || name == "arm64") return Machine::aarch64;
  for (const ElfNote& note : notes_) {
    if (note.type != kNtPrstatus || note.name != "CORE") continue;
    if (note.desc.size() == kPrstatusSizeX86_64) return Machine::x86_64;
    if (note.desc.size() == kPrstatusSizeAarch64) return Machine::aarch64;
  }
  return Machine::unknown;
}

std::optional<std::string> KdumpDump::vmcoreinfo_text() const {
  if (vmcoreinfo_) return vmcoreinfo_;
  return Dump::vmcoreinfo_text();
}

bool KdumpDump::incomplete() const { return marked_incomplete() || truncated_; }

std::optional<int> KdumpDump::dump_level() const {
  if (header().header_version < 1) return std::nullopt;
  return sub_header().dump_level;
}

const KdumpDump::Part* KdumpDump::part_of(uint64_t pfn) const {
  auto it = std::upper_bound(parts_.begin(), parts_.end(), pfn,
                             [](uint64_t value, const Part& part) { return value < part.start_pfn; });
  // Parts tile [0, max_mapnr); several may start at the same pfn when some
  // are empty, so step back to the one that holds it.
  while (it != parts_.begin()) {
    --it;
    if (pfn >= it->start_pfn && pfn < it->end_pfn) return &*it;
  }
  return nullptr;
}

bool KdumpDump::page_dumped(uint64_t pfn) const {
  if (pfn >= max_mapnr_) return false;
  const Part* part = part_of(pfn);
  return part && part->dumped.test(pfn);
}

Expected<kdump::PageDesc> KdumpDump::locate(uint64_t paddr, const Part** found) const {
  uint64_t pfn = paddr / block_size_;
  if (pfn >= max_mapnr_)
    return make_error(Errc::not_in_dump, "physical address {:#x} is beyond the end of the dump's memory at {:#x}",
                      paddr, max_mapnr_ * block_size_);
  if (!in_memory_.test(pfn))
    return make_error(Errc::not_in_dump, "physical address {:#x} is not in the dump (no RAM there)", paddr);
  const Part* part = part_of(pfn);
  if (!part || !part->dumped.test(pfn))
    return make_error(Errc::excluded_by_filter, "physical address {:#x} is excluded by the dump filter (dump level {})",
                      paddr, sub_header().dump_level);
  *found = part;
  const ByteSource& source = *part->source;
  uint64_t index = part->dumped.rank(pfn) - part->rank_base;
  uint64_t at = kdump::page_desc_offset(part->header) + index * kdump::kPageDescSize;
  std::array<std::byte, kdump::kPageDescSize> raw{};
  if (at > source.size() || raw.size() > source.size() - at)
    return make_error(Errc::truncated,
                      "{}: dump is incomplete/truncated at offset {:#x}: no page descriptor for physical address {:#x}",
                      source.name(), source.size(), paddr);
  CORONER_CHECK(source.read_at(at, raw));
  CORONER_TRY(desc, kdump::decode_page_desc(raw));
  if (desc.offset == 0)
    return make_error(Errc::truncated,
                      "{}: dump is incomplete: the page of physical address {:#x} was never written (empty descriptor "
                      "at offset {:#x})",
                      source.name(), paddr, at);
  auto codec = kdump::codec_of_flags(desc.flags);
  if (!codec)
    return make_error(Errc::corrupt, "{}: page descriptor at offset {:#x} (physical address {:#x}) has conflicting "
                                     "compression flags {:#x}",
                      source.name(), at, paddr, desc.flags);
  bool size_ok = *codec == PageCodec::none ? desc.size == block_size_ : desc.size > 0 && desc.size <= block_size_;
  if (!size_ok)
    return make_error(Errc::corrupt, "{}: page descriptor at offset {:#x} (physical address {:#x}) gives {} data size "
                                     "{} for a page of {} bytes",
                      source.name(), at, paddr, codec_name(*codec), desc.size, block_size_);
  if (desc.offset > source.size() || desc.size > source.size() - desc.offset)
    return make_error(Errc::truncated,
                      "{}: dump is incomplete/truncated at offset {:#x}: the data of physical address {:#x} ({} bytes "
                      "at offset {:#x}) lies beyond it",
                      source.name(), source.size(), paddr, desc.size, desc.offset);
  return desc;
}

Expected<kdump::PageDesc> KdumpDump::page_descriptor(uint64_t pfn) const {
  if (pfn >= max_mapnr_)
    return make_error(Errc::not_in_dump, "pfn {:#x} is beyond max_mapnr {:#x}", pfn, max_mapnr_);
  const Part* part = nullptr;
  return locate(pfn * block_size_, &part);
}

PageCodec KdumpDump::codec_of_page(uint64_t pfn) const {
  auto desc = page_descriptor(pfn);
  return desc ? kdump::codec_of_flags(desc->flags).value_or(PageCodec::none) : PageCodec::none;
}

Expected<void> KdumpDump::read_in_page(uint64_t paddr, std::span<std::byte> out) const {
  uint64_t pfn = paddr / block_size_;
  size_t offset = static_cast<size_t>(paddr % block_size_);
  const Part* part = nullptr;
  CORONER_TRY(desc, locate(paddr, &part));
  const ByteSource& source = *part->source;
  PageCodec codec = kdump::codec_of_flags(desc.flags).value_or(PageCodec::none);
  if (codec == PageCodec::none) return source.read_at(desc.offset + offset, out);
  if (cache_->copy_out(pfn, offset, out)) return {};

  thread_local std::vector<std::byte> packed, page;
  std::span<const std::byte> input = source.view(desc.offset, desc.size);
  if (input.size() != desc.size) {
    packed.resize(desc.size);
    CORONER_CHECK(source.read_at(desc.offset, packed));
    input = std::span<const std::byte>(packed.data(), desc.size);
  }
  page.resize(block_size_);
  auto decoded = decompress_page(codec, input, page);
  if (!decoded)
    return decoded.error().context(fmt::format("{}: page of physical address {:#x} (pfn {:#x}, {} bytes at offset {:#x})",
                                               source.name(), paddr, pfn, desc.size, desc.offset));
  cache_->insert(pfn, page);
  std::copy_n(page.begin() + offset, out.size(), out.begin());
  return {};
}

Expected<void> KdumpDump::read(uint64_t paddr, std::span<std::byte> out) const {
  return read_page_by_page(paddr, out, block_size_,
                           [this](uint64_t at, std::span<std::byte> part) { return read_in_page(at, part); });
}

}  // namespace coroner
