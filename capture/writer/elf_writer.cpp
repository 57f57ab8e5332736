#include "capture/writer/elf_writer.hpp"

#include "capture/writer/elf_segments.hpp"

#include <elf.h>

#include <cstring>

namespace coroner::capture {
namespace {

// Program headers are written this many at a time.
constexpr size_t kPhdrBatch = 1024;

// The ELF header for `phnum` program headers, and after them section
// header 0 holding the count when there are PN_XNUM or more.
std::vector<std::byte> encode_elf_header(const DumpPlan& plan, uint64_t phnum, uint32_t flags) {
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
  std::vector<std::byte> out(sizeof eh);
  if (extended) {
    eh.e_shoff = sizeof eh + phnum * sizeof(Elf64_Phdr);
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 1;
    Elf64_Shdr sh{};
    sh.sh_info = static_cast<Elf64_Word>(phnum);
    out.resize(sizeof eh + sizeof sh);
    std::memcpy(out.data() + sizeof eh, &sh, sizeof sh);
  }
  std::memcpy(out.data(), &eh, sizeof eh);
  return out;
}

uint64_t headers_size(uint64_t segments) {
  uint64_t size = sizeof(Elf64_Ehdr) + (segments + 1) * sizeof(Elf64_Phdr);
  return segments + 1 >= PN_XNUM ? size + sizeof(Elf64_Shdr) : size;
}

// The program headers of the PT_LOADs, written in batches as segments are
// decided, with the kernel virtual addresses the input had (the linear map).
class LoadHeaders {
 public:
  LoadHeaders(const DumpPlan& plan, OutputSink& out, uint64_t counted)
      : out_(out), virtual_ranges_(plan.dump->virtual_ranges()), counted_(counted) {}

  Expected<void> add(const ElfSegment& s) {
    if (first_ + batch_.size() >= counted_)
      return make_error(Errc::corrupt, "{}: more segments than the first pass counted ({}): the input changed",
                        out_.name(), counted_);
    Elf64_Phdr load{};
    load.p_type = PT_LOAD;
    load.p_flags = PF_R | PF_W | PF_X;
    load.p_offset = s.filesz ? s.offset : 0;
    load.p_vaddr = vaddr_of(s.paddr);
    load.p_paddr = s.paddr;
    load.p_filesz = s.filesz;
    load.p_memsz = s.memsz;
    batch_.push_back(load);
    return batch_.size() == kPhdrBatch ? flush() : Expected<void>{};
  }

  Expected<void> flush() {
    // Index 0 is the PT_NOTE.
    uint64_t at = sizeof(Elf64_Ehdr) + (first_ + 1) * sizeof(Elf64_Phdr);
    CORONER_CHECK(out_.write_at(at, std::as_bytes(std::span(batch_))));
    first_ += batch_.size();
    batch_.clear();
    return {};
  }

 private:
  uint64_t vaddr_of(uint64_t paddr) const {
    const VirtualRange* best = nullptr;
    for (const VirtualRange& v : virtual_ranges_)
      if (paddr >= v.paddr && paddr - v.paddr < v.size && (!best || v.size > best->size)) best = &v;
    return best ? best->vaddr + (paddr - best->paddr) : 0;
  }

  OutputSink& out_;
  std::vector<VirtualRange> virtual_ranges_;
  uint64_t counted_;
  uint64_t first_ = 0;  // PT_LOADs written
  std::vector<Elf64_Phdr> batch_;
};

}  // namespace

Expected<WriteResult> write_elf(DumpPlan& plan, const PipelineSettings& settings, MappedInputTrimmer* trimmer,
                                OutputSink& out, Progress& progress) {
  WriteResult result;
  const uint64_t ps = plan.page_size;
  const bool exclude_zero = (plan.dump_level & kExcludeZero) != 0;
  PipelineSettings raw = settings;
  raw.codec = PageCodec::none;
  raw.detect_zero = exclude_zero;
  PagePipeline pipeline(*plan.dump, ps, raw, trimmer);
  auto window_end = [&](uint64_t window) { return std::min(plan.max_pfn, window + plan.window_pfns); };

  // First pass: the segments are counted, which places the notes and the
  // data. With zero pages excluded, the kept pages are read to find them.
  ElfSegmentStream counting(plan.ranges, ps, 0);
  uint64_t kept_pages = 0;
  progress.start(exclude_zero ? "Finding zero pages" : "Counting segments", plan.max_pfn);
  auto count_window = [&](uint64_t window, uint64_t end) -> Expected<void> {
    CORONER_CHECK(plan.select_window(window));
    kept_pages += plan.keep.count();
    if (exclude_zero) {
      CORONER_CHECK(pipeline.run(plan.keep, window, end, [&](const PageBatch& batch) -> Expected<void> {
        for (const EncodedPage& page : batch.pages) {
          if (page.outcome == PageOutcome::raw) CORONER_CHECK(counting.keep(page.pfn));
          else CORONER_CHECK(counting.exclude(page.pfn, page.outcome == PageOutcome::unreadable));
        }
        return {};
      }));
    } else {
      for (uint64_t pfn = window; pfn < end; ++pfn) {
        if (pfn % 64 == 0 && plan.keep.word(pfn / 64) == 0) pfn += 63;
        else if (plan.keep.test(pfn)) CORONER_CHECK(counting.keep(pfn));
      }
    }
    return counting.skip_to(end);
  };
  for (uint64_t window = 0; window < plan.max_pfn; window += plan.window_pfns) {
    uint64_t end = window_end(window);
    if (auto counted = count_window(window, end); !counted)
      return counted.error().context(fmt::format("{}: nothing written", out.name()));
    progress.advance(end - window);
  }
  CORONER_CHECK(counting.finish());
  progress.finish();

  const uint64_t phnum = counting.segments() + 1;
  const uint64_t notes_at = headers_size(counting.segments());
  const uint64_t data_at = (notes_at + plan.note_area.size() + ps - 1) / ps * ps;
  uint64_t reached = 0;
  auto fail = [&](const Error& error) -> Error {
    (void)out.sync();
    return Error(error.code(), fmt::format("{} ({} left incomplete, data up to offset {:#x})", error.message(),
                                           out.name(), reached));
  };
  Elf64_Phdr note{};
  note.p_type = PT_NOTE;
  note.p_offset = notes_at;
  note.p_filesz = note.p_memsz = plan.note_area.size();
  if (auto w = out.write_at(0, encode_elf_header(plan, phnum, kElfDumpIncomplete)); !w) return fail(w.error());
  if (auto w = out.write_at(sizeof(Elf64_Ehdr), std::as_bytes(std::span(&note, 1))); !w) return fail(w.error());
  if (out.keeps_stale_data())
    if (auto w = write_zeros(out, sizeof(Elf64_Ehdr) + sizeof note, counting.segments() * sizeof note); !w)
      return fail(w.error());
  if (auto w = out.write_at(notes_at, plan.note_area); !w) return fail(w.error());

  // Second pass: each window decided again; segments written as decided.
  LoadHeaders headers(plan, out, counting.segments());
  ElfSegmentStream writing(plan.ranges, ps, data_at, [&](const ElfSegment& s) { return headers.add(s); });
  std::vector<std::byte> run;  // contiguous output being gathered
  uint64_t run_at = 0;
  auto flush = [&]() -> Expected<void> {
    if (run.empty()) return {};
    CORONER_CHECK(out.write_at(run_at, run));
    reached = run_at + run.size();
    run.clear();
    return {};
  };
  auto append = [&](uint64_t at, std::span<const std::byte> bytes) -> Expected<void> {
    if (!run.empty() && run_at + run.size() != at) CORONER_CHECK(flush());
    if (run.empty()) run_at = at;
    run.insert(run.end(), bytes.begin(), bytes.end());
    return {};
  };
  const std::vector<std::byte> zeros(ps);
  // A page's bytes as stored: zeros where the input has none.
  auto stored_bytes = [&](const PageBatch& batch, const EncodedPage& page) -> std::span<const std::byte> {
    if (page.outcome == PageOutcome::unavailable) {
      ++result.unavailable;
    } else if (page.outcome == PageOutcome::unreadable) {
      result.count_unreadable(page.pfn);
      ++result.unreadable_as_zeros;
    } else {
      return std::span(batch.data).subspan(page.data_offset, page.size);
    }
    return zeros;
  };
  // The excluded pages a segment stores, physical bytes [from, to), are
  // read again by pfn: they may lie in a window already passed.
  PipelineSettings one_thread = settings;
  one_thread.codec = PageCodec::none;
  one_thread.threads = 0;
  one_thread.detect_zero = false;
  PagePipeline excluded_reader(*plan.dump, ps, one_thread, trimmer);
  auto store_excluded = [&](uint64_t from, uint64_t to, uint64_t at) -> Expected<void> {
    uint64_t first = from / ps, end = (to + ps - 1) / ps;
    PfnBitmap pages(first / 64 * 64, end);  // bitmaps start on a word
    pages.set_range(first, end);
    return excluded_reader.run(pages, first, end, [&](const PageBatch& batch) -> Expected<void> {
      for (const EncodedPage& page : batch.pages) {
        uint64_t start = page.pfn * ps, a = std::max(from, start), b = std::min(to, start + ps);
        CORONER_CHECK(append(at + (a - from), stored_bytes(batch, page).subspan(a - start, b - a)));
      }
      return {};
    });
  };
  auto consume = [&](const PageBatch& batch) -> Expected<void> {
    for (const EncodedPage& page : batch.pages) {
      if (exclude_zero && page.outcome != PageOutcome::raw) {
        if (page.outcome == PageOutcome::zero) ++result.zero_pages;
        else if (page.outcome == PageOutcome::unavailable) ++result.unavailable;
        else result.count_unreadable(page.pfn);
        CORONER_CHECK(writing.exclude(page.pfn, page.outcome == PageOutcome::unreadable));
        continue;
      }
      CORONER_TRY(store, writing.keep(page.pfn));
      if (!store) continue;
      if (store->from < store->page_from) CORONER_CHECK(store_excluded(store->from, store->page_from, store->at));
      uint64_t start = page.pfn * ps;
      auto bytes = stored_bytes(batch, page).subspan(store->page_from - start, store->to - store->page_from);
      CORONER_CHECK(append(store->at + (store->page_from - store->from), bytes));
      ++result.pages_written;
    }
    progress.advance(batch.pages.size());
    return flush();
  };
  progress.start("Writing dump", kept_pages);
  for (uint64_t window = 0; window < plan.max_pfn; window += plan.window_pfns) {
    if (auto selected = plan.select_window(window); !selected) return fail(selected.error());
    uint64_t end = window_end(window);
    if (auto copied = pipeline.run(plan.keep, window, end, consume); !copied) return fail(copied.error());
    if (auto skipped = writing.skip_to(end); !skipped) return fail(skipped.error());
  }
  progress.finish();
  if (auto done = writing.finish(); !done) return fail(done.error());
  if (auto w = headers.flush(); !w) return fail(w.error());
  if (writing.segments() != counting.segments())
    return fail(Error(Errc::corrupt, fmt::format("{}: {} segments, where the first pass counted {}: the input changed",
                                                 out.name(), writing.segments(), counting.segments())));
  if (auto s = out.sync(); !s) return fail(s.error());
  if (auto w = out.write_at(0, encode_elf_header(plan, phnum, 0)); !w) return fail(w.error());
  if (auto f = out.finish(); !f) return fail(f.error());
  return result;
}

}  // namespace coroner::capture
