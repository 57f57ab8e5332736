#include "capture/writer/elf_writer.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>

namespace coroner::capture {
namespace {

struct Segment {
  uint64_t paddr = 0, vaddr = 0, memsz = 0, filesz = 0, offset = 0;
};

// makedumpfile -E's segments over the RAM ranges for the pages in `keep`.
std::vector<Segment> plan_segments(const DumpPlan& plan) {
  const uint64_t ps = plan.page_size;
  std::vector<Segment> segments;
  for (const PhysRange& r : plan.ranges) {
    Segment seg{r.start};
    uint64_t run_pages = 0, run_bytes = 0;
    bool run_unreadable = false;  // a run holding an unreadable page always ends the segment
    for (uint64_t pfn = r.start / ps; pfn * ps < r.end(); ++pfn) {
      uint64_t extent = std::min(r.end(), (pfn + 1) * ps) - std::max(r.start, pfn * ps);
      if (!plan.keep.test(pfn)) {
        ++run_pages;
        run_bytes += extent;
        run_unreadable = run_unreadable || std::binary_search(plan.unreadable.begin(), plan.unreadable.end(), pfn);
        continue;
      }
      if (run_pages >= kElfExcludedRunPages || run_unreadable) {
        seg.memsz += run_bytes;
        segments.push_back(seg);
        seg = Segment{std::max(r.start, pfn * ps), 0, extent, extent};
      } else {
        seg.memsz += run_bytes + extent;
        seg.filesz = seg.memsz;
      }
      run_pages = run_bytes = 0;
      run_unreadable = false;
    }
    seg.memsz += run_bytes;
    segments.push_back(seg);
  }
  // Kernel virtual addresses where the input had them (the linear map).
  auto virtual_ranges = plan.dump->virtual_ranges();
  for (Segment& seg : segments) {
    const VirtualRange* best = nullptr;
    for (const VirtualRange& v : virtual_ranges)
      if (seg.paddr >= v.paddr && seg.paddr - v.paddr < v.size && (!best || v.size > best->size)) best = &v;
    if (best) seg.vaddr = best->vaddr + (seg.paddr - best->paddr);
  }
  return segments;
}

std::vector<std::byte> encode_headers(const DumpPlan& plan, const std::vector<Segment>& segments, uint64_t notes_at,
                                      uint32_t flags) {
  uint64_t phnum = segments.size() + 1;
  bool extended = phnum >= PN_XNUM;
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_CORE;
  eh.e_machine = plan.machine == Machine::aarch64 ? EM_AARCH64 : EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_flags = flags;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = extended ? PN_XNUM : static_cast<Elf64_Half>(phnum);
  std::vector<Elf64_Phdr> phdrs;
  Elf64_Phdr note{};
  note.p_type = PT_NOTE;
  note.p_offset = notes_at;
  note.p_filesz = note.p_memsz = plan.note_area.size();
  phdrs.push_back(note);
  for (const Segment& s : segments) {
    Elf64_Phdr load{};
    load.p_type = PT_LOAD;
    load.p_flags = PF_R | PF_W | PF_X;
    load.p_offset = s.filesz ? s.offset : 0;
    load.p_vaddr = s.vaddr;
    load.p_paddr = s.paddr;
    load.p_filesz = s.filesz;
    load.p_memsz = s.memsz;
    phdrs.push_back(load);
  }
  std::vector<std::byte> out(sizeof eh + phdrs.size() * sizeof(Elf64_Phdr));
  if (extended) {
    // 65535 or more program headers: section header 0 holds the count.
    eh.e_shoff = out.size();
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 1;
    Elf64_Shdr sh{};
    sh.sh_info = static_cast<Elf64_Word>(phnum);
    out.resize(out.size() + sizeof sh);
    std::memcpy(out.data() + eh.e_shoff, &sh, sizeof sh);
  }
  std::memcpy(out.data(), &eh, sizeof eh);
  std::memcpy(out.data() + sizeof eh, phdrs.data(), phdrs.size() * sizeof(Elf64_Phdr));
  return out;
}

uint64_t headers_size(size_t segments) {
  uint64_t size = sizeof(Elf64_Ehdr) + (segments + 1) * sizeof(Elf64_Phdr);
  return segments + 1 >= PN_XNUM ? size + sizeof(Elf64_Shdr) : size;
}

}  // namespace

Expected<WriteResult> write_elf(DumpPlan& plan, const PipelineSettings& settings, MappedInputTrimmer* trimmer,
                                OutputSink& out, Progress& progress) {
  WriteResult result;
  const uint64_t ps = plan.page_size;
  PipelineSettings raw = settings;
  raw.codec = PageCodec::none;

  if (plan.dump_level & kExcludeZero) {
    // The program headers depend on which pages are zero: find them first.
    raw.detect_zero = true;
    PagePipeline scan(*plan.dump, ps, raw, trimmer);
    progress.start("Finding zero pages", plan.keep.count());
    auto scanned = scan.run(plan.keep, 0, plan.max_pfn, [&](const PageBatch& batch) -> Expected<void> {
      for (const EncodedPage& page : batch.pages) {
        if (page.outcome == PageOutcome::zero) {
          ++result.zero_pages;
        } else if (page.outcome == PageOutcome::unavailable) {
          ++result.unavailable;
        } else if (page.outcome == PageOutcome::unreadable) {
          result.count_unreadable(page.pfn);
          plan.unreadable.push_back(page.pfn);  // batches arrive in pfn order
        } else {
          continue;
        }
        plan.keep.clear(page.pfn);
      }
      progress.advance(batch.pages.size());
      return {};
    });
    progress.finish();
    if (!scanned) return scanned.error().context(fmt::format("{}: nothing written", out.name()));
    raw.detect_zero = false;
  }

  std::vector<Segment> segments = plan_segments(plan);
  uint64_t notes_at = headers_size(segments.size());
  uint64_t cursor = (notes_at + plan.note_area.size() + ps - 1) / ps * ps;
  for (Segment& s : segments) {
    s.offset = cursor;
    cursor += s.filesz;
  }

  uint64_t reached = 0;
  auto fail = [&](const Error& error) -> Error {
    (void)out.sync();
    return Error(error.code(), fmt::format("{} ({} left incomplete, data up to offset {:#x})", error.message(),
                                           out.name(), reached));
  };
  if (auto w = out.write_at(0, encode_headers(plan, segments, notes_at, kElfDumpIncomplete)); !w) return fail(w.error());
  if (auto w = out.write_at(notes_at, plan.note_area); !w) return fail(w.error());

  // Every page some segment stores (kept pages and short excluded runs).
  PfnBitmap stored(plan.max_pfn);
  uint64_t stored_pages = 0;
  for (const Segment& s : segments)
    for (uint64_t pfn = s.paddr / ps; pfn * ps < s.paddr + s.filesz; ++pfn) stored.set(pfn), ++stored_pages;

  std::vector<std::byte> run;  // contiguous output being gathered
  uint64_t run_at = 0;
  auto flush = [&]() -> Expected<void> {
    if (run.empty()) return {};
    CORONER_CHECK(out.write_at(run_at, run));
    reached = run_at + run.size();
    run.clear();
    return {};
  };
  std::vector<std::byte> zeros(ps);
  progress.start("Writing dump", stored_pages);
  PagePipeline copier(*plan.dump, ps, raw, trimmer);
  auto copied = copier.run(stored, 0, plan.max_pfn, [&](const PageBatch& batch) -> Expected<void> {
    for (const EncodedPage& page : batch.pages) {
      uint64_t start = page.pfn * ps;
      auto seg = std::upper_bound(segments.begin(), segments.end(), start,
                                  [](uint64_t a, const Segment& s) { return a < s.paddr; });
      // The page's first stored byte may lie past its start (a range that
      // begins inside the page), so look at the segment it starts in too.
      if (seg != segments.begin() && std::prev(seg)->paddr + std::prev(seg)->filesz > start) --seg;
      if (seg == segments.end()) continue;
      uint64_t from = std::max(start, seg->paddr), to = std::min(start + ps, seg->paddr + seg->filesz);
      if (from >= to) continue;
      std::span<const std::byte> bytes = zeros;
      if (page.outcome == PageOutcome::unavailable) {
        ++result.unavailable;  // written as zeros
      } else if (page.outcome == PageOutcome::unreadable) {
        result.count_unreadable(page.pfn);
        ++result.unreadable_as_zeros;
      } else {
        bytes = std::span(batch.data).subspan(page.data_offset, page.size);
      }
      bytes = bytes.subspan(from - start, to - from);
      uint64_t at = seg->offset + (from - seg->paddr);
      if (!run.empty() && run_at + run.size() != at) CORONER_CHECK(flush());
      if (run.empty()) run_at = at;
      run.insert(run.end(), bytes.begin(), bytes.end());
      if (plan.keep.test(page.pfn)) ++result.pages_written;
    }
    progress.advance(batch.pages.size());
    return flush();
  });
  progress.finish();
  if (!copied) return fail(copied.error());
  if (auto s = out.sync(); !s) return fail(s.error());
  if (auto w = out.write_at(0, encode_headers(plan, segments, notes_at, 0)); !w) return fail(w.error());
  if (auto f = out.finish(); !f) return fail(f.error());
  return result;
}

}  // namespace coroner::capture
