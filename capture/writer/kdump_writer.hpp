// Writes the kdump-compressed format (layout: capture/format/kdump_header.hpp)
// as makedumpfile does at header version 6: both bitmaps, one descriptor
// per kept page, pages compressed by the page pipeline (raw when that does
// not shrink them), all-zero pages sharing one zero page when -d has bit 1.
//
// Never a silently corrupt dump: the header goes out first with the
// incomplete flag set and is rewritten without it only after every page,
// descriptor and bitmap is written and synced. Every region's place is
// known before the first page, so a dump cut short keeps readable pages
// before the cut; descriptors never written read as zero (crash and our
// reader then report those pages as missing from an incomplete dump).
#pragma once

#include "capture/progress.hpp"
#include "capture/writer/dump_plan.hpp"
#include "capture/writer/output_sink.hpp"
#include "capture/writer/page_pipeline.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace coroner::capture {

struct WriteResult {
  uint64_t pages_written = 0;  // descriptors written (zero pages included)
  uint64_t zero_pages = 0;     // all-zero pages (bit 1 of the dump level)
  uint64_t unavailable = 0;    // kept pages the input turned out not to hold
  // Kept pages whose read failed (EIO): left out of the dump's bitmap (kdump,
  // or ELF with zero pages excluded) or written as zeros (other ELF dumps).
  uint64_t unreadable = 0;
  uint64_t unreadable_as_zeros = 0;
  uint64_t first_unreadable_pfn = UINT64_MAX;

  void count_unreadable(uint64_t pfn) {
    ++unreadable;
    first_unreadable_pfn = std::min(first_unreadable_pfn, pfn);
  }
};

// The pfn range one file holds: everything, or one part of --split.
struct KdumpPart {
  uint64_t start_pfn = 0;
  uint64_t end_pfn = 0;
  bool split = false;
};

// Writes the pages `plan` keeps within `part` to `out`, a window of pfns at
// a time (plan.select_window): a first pass over the windows writes the
// 2nd bitmap and counts the descriptors, a second writes the pages. Pages
// the input lacks are cleared from plan.keep and its window's bitmap. On any failure (input, output, a stop
// request) the header stays marked incomplete and the error names the
// output file and the offset reached.
Expected<WriteResult> write_kdump(DumpPlan& plan, PagePipeline& pipeline, OutputSink& out, const KdumpPart& part,
                                  Progress& progress);

// Divides [0, max_pfn) into `count` pfn ranges holding about equal numbers
// of kept pages, as makedumpfile --split does. kept[i] is the number of kept
// pages of window i (windows of `window_pfns` pfns); window_bits(start) gives
// the bitmap of the window starting at pfn `start`, and is asked only for
// the windows a part ends in, in ascending order.
using WindowBits = std::function<Expected<const PfnBitmap*>(uint64_t start)>;
Expected<std::vector<KdumpPart>> split_parts(std::span<const uint64_t> kept, uint64_t window_pfns, uint64_t max_pfn,
                                             size_t count, const WindowBits& window_bits);
// The same over the windows of `plan`: a pass counts the kept pages of each,
// a second selects them again up to the last one a part ends in.
Expected<std::vector<KdumpPart>> split_parts(DumpPlan& plan, size_t count);

// Bytes [offset, offset + size) of a bitmap as the kdump format stores it
// (pfn N is bit N % 8 of byte N / 8), of a PfnBitmap or of ascending runs.
std::vector<std::byte> bitmap_bytes(const PfnBitmap& bitmap, uint64_t offset, uint64_t size);
std::vector<std::byte> bitmap_bytes(std::span<const PfnRun> runs, uint64_t offset, uint64_t size);

}  // namespace coroner::capture
