#include "capture/writer/kdump_writer.hpp"

#include "capture/format/kdump_header.hpp"

#include <algorithm>
#include <bit>
#include <climits>

namespace coroner::capture {
namespace {

// Bitmaps are written this many bytes at a time (8 Mi pfns, 32 GiB of 4K
// pages), not built whole: a terabyte machine's are 32 MiB each.
constexpr uint64_t kBitmapChunk = 1024 * 1024;

uint32_t clamp32(uint64_t value) { return static_cast<uint32_t>(std::min<uint64_t>(value, UINT32_MAX)); }

// Writes the `size` bytes of a bitmap at `at`, chunk by chunk from
// bytes_of(offset, size).
template <typename BytesOf>
Expected<void> write_bitmap(OutputSink& out, uint64_t at, uint64_t size, BytesOf bytes_of) {
  for (uint64_t done = 0; done < size; done += kBitmapChunk)
    CORONER_CHECK(out.write_at(at + done, bytes_of(done, std::min(kBitmapChunk, size - done))));
  return {};
}

}  // namespace

std::vector<std::byte> bitmap_bytes(const PfnBitmap& bitmap, uint64_t offset, uint64_t size) {
  std::vector<std::byte> bytes(size);
  for (uint64_t i = 0; i < size; ++i)
    bytes[i] = static_cast<std::byte>(bitmap.word((offset + i) / 8) >> (8 * ((offset + i) % 8)));
  return bytes;
}

std::vector<std::byte> bitmap_bytes(std::span<const PfnRun> runs, uint64_t offset, uint64_t size) {
  std::vector<std::byte> bytes(size);
  const uint64_t first = offset * 8, last = (offset + size) * 8;
  for (const PfnRun& run : runs) {
    uint64_t pfn = std::max(run.first, first), end = std::min(run.end, last);
    for (; pfn < end && pfn % 8; ++pfn) bytes[pfn / 8 - offset] |= std::byte{1} << (pfn % 8);
    for (; pfn + 8 <= end; pfn += 8) bytes[pfn / 8 - offset] = std::byte{0xff};
    for (; pfn < end; ++pfn) bytes[pfn / 8 - offset] |= std::byte{1} << (pfn % 8);
  }
  return bytes;
}

Expected<std::vector<KdumpPart>> split_parts(std::span<const uint64_t> kept, uint64_t window_pfns, uint64_t max_pfn,
                                             size_t count, const WindowBits& window_bits) {
  std::vector<KdumpPart> parts;
  uint64_t total = 0;
  for (uint64_t n : kept) total += n;
  uint64_t per_part = std::max<uint64_t>(1, (total + count - 1) / count);
  uint64_t start = 0, seen = 0;
  for (size_t i = 0; i < kept.size() && parts.size() + 1 < count; ++i) {
    if (seen + kept[i] < per_part * (parts.size() + 1)) {
      seen += kept[i];
      continue;
    }
    CORONER_TRY(bits, window_bits(i * window_pfns));
    for (uint64_t pfn = i * window_pfns; pfn < std::min(max_pfn, (i + 1) * window_pfns) && parts.size() + 1 < count;
         ++pfn) {
      if (!bits->test(pfn)) continue;
      if (++seen == per_part * (parts.size() + 1)) {
        parts.push_back({start, pfn + 1, true});
        start = pfn + 1;
      }
    }
  }
  while (parts.size() < count) {
    parts.push_back({start, max_pfn, true});
    start = max_pfn;
  }
  return parts;
}

Expected<std::vector<KdumpPart>> split_parts(DumpPlan& plan, size_t count) {
  std::vector<uint64_t> kept;
  for (uint64_t window = 0; window < plan.max_pfn; window += plan.window_pfns) {
    CORONER_CHECK(plan.select_window(window));
    kept.push_back(plan.keep.count());
  }
  uint64_t next = 0;  // the next window of the second pass
  return split_parts(kept, plan.window_pfns, plan.max_pfn, count, [&](uint64_t start) -> Expected<const PfnBitmap*> {
    for (; next <= start; next += plan.window_pfns) CORONER_CHECK(plan.select_window(next));
    return &plan.keep;
  });
}

Expected<WriteResult> write_kdump(DumpPlan& plan, PagePipeline& pipeline, OutputSink& out, const KdumpPart& part,
                                  Progress& progress) {
  const uint32_t block = static_cast<uint32_t>(plan.page_size);
  kdump::DiskDumpHeader header;
  header.header_version = kdump::kCurrentHeaderVersion;
  header.utsname = plan.utsname;
  header.timestamp_sec = plan.timestamp;
  header.status = kdump::flag_of_codec(pipeline.codec()) | kdump::kFlagIncomplete;
  header.block_size = static_cast<int32_t>(block);
  header.sub_hdr_size = static_cast<int32_t>((kdump::kSubHeaderSize + plan.note_area.size() + block - 1) / block);
  header.bitmap_blocks = kdump::bitmap_blocks_for(plan.max_pfn, block);
  header.max_mapnr = clamp32(plan.max_pfn);
  header.nr_cpus = plan.nr_cpus;

  kdump::SubHeader sub;
  sub.phys_base = plan.phys_base;
  sub.dump_level = static_cast<int32_t>(plan.dump_level);
  if (part.split) {
    sub.split = 1;
    sub.start_pfn = clamp32(part.start_pfn);
    sub.end_pfn = clamp32(part.end_pfn);
    sub.start_pfn_64 = part.start_pfn;
    sub.end_pfn_64 = part.end_pfn;
  }
  sub.offset_note = block + kdump::kSubHeaderSize;
  sub.size_note = plan.note_area.size();
  if (plan.vmcoreinfo_size) {
    sub.offset_vmcoreinfo = sub.offset_note + plan.vmcoreinfo_offset;
    sub.size_vmcoreinfo = plan.vmcoreinfo_size;
  }
  sub.max_mapnr_64 = plan.max_pfn;

  const uint64_t bitmap_size = kdump::bitmap_size(header);
  const uint64_t bitmap2_at = kdump::bitmap_offset(header) + bitmap_size;
  uint64_t desc_cursor = kdump::page_desc_offset(header);
  uint64_t data_cursor = desc_cursor;
  WriteResult result;
  uint64_t window = 0;          // the first pfn of plan.keep's window
  bool window_changed = false;  // pages of it cleared since its bitmap was written

  // The 2nd bitmap's bytes of the current window (the last one's to the
  // end of the bitmap).
  auto write_window_bitmap = [&] {
    uint64_t from = window / 8;
    uint64_t to = window + plan.window_pfns >= plan.max_pfn ? bitmap_size : (window + plan.window_pfns) / 8;
    window_changed = false;
    return write_bitmap(out, bitmap2_at + from, to - from,
                        [&](uint64_t offset, uint64_t size) { return bitmap_bytes(plan.keep, from + offset, size); });
  };
  // Leaves the dump marked incomplete (its header was written so) and says
  // where it stopped. The window's bitmap is brought up to date if it can be.
  auto fail = [&](const Error& error) -> Error {
    if (window_changed) (void)write_window_bitmap();
    (void)out.sync();
    return Error(error.code(), fmt::format("{} ({} left incomplete, {} pages written, data up to offset {:#x})",
                                           error.message(), out.name(), result.pages_written, data_cursor));
  };

  auto encoded_header = kdump::encode_disk_dump_header(header);
  if (auto w = out.write_at(0, encoded_header); !w) return fail(w.error());
  std::vector<std::byte> sub_area(kdump::kSubHeaderSize);
  auto encoded_sub = kdump::encode_sub_header(sub);
  std::copy(encoded_sub.begin(), encoded_sub.end(), sub_area.begin());
  sub_area.insert(sub_area.end(), plan.note_area.begin(), plan.note_area.end());
  if (auto w = out.write_at(block, sub_area); !w) return fail(w.error());
  auto write_bitmap1 = [&](uint64_t offset, uint64_t size) { return bitmap_bytes(plan.ram, offset, size); };
  if (auto w = write_bitmap(out, kdump::bitmap_offset(header), bitmap_size, write_bitmap1); !w) return fail(w.error());

  // First pass (makedumpfile's cyclic mode: the windows' bitmaps are
  // decided again in the second): the 2nd bitmap and the number of page
  // descriptors, which places the page data.
  uint64_t descriptors = 0;
  for (window = 0; window < plan.max_pfn; window += plan.window_pfns) {
    if (auto selected = plan.select_window(window); !selected) return fail(selected.error());
    uint64_t end = std::min(part.end_pfn, window + plan.window_pfns);
    for (uint64_t pfn = std::max(part.start_pfn, window); pfn < end;) {
      // A word at a time where the part covers it whole.
      if (pfn % 64 == 0 && pfn + 64 <= end) {
        descriptors += std::popcount(plan.keep.word(pfn / 64));
        pfn += 64;
      } else {
        descriptors += plan.keep.test(pfn++);
      }
    }
    if (auto w = write_window_bitmap(); !w) return fail(w.error());
  }
  data_cursor += descriptors * kdump::kPageDescSize;
  const uint64_t data_start = data_cursor;
  if (out.keeps_stale_data())
    if (auto w = write_zeros(out, desc_cursor, data_start - desc_cursor); !w) return fail(w.error());

  // makedumpfile's shared zero page: every all-zero page points at it.
  kdump::PageDesc zero_desc{data_cursor, block, 0, 0};
  if (plan.dump_level & kExcludeZero) {
    if (auto w = write_zeros(out, data_cursor, block); !w) return fail(w.error());
    data_cursor += block;
  }

  const uint32_t codec_flag = kdump::flag_of_codec(pipeline.codec());
  std::vector<std::byte> descs;
  progress.start(part.split ? fmt::format("Writing {}", out.name()) : "Writing dump", descriptors);
  auto consume = [&](const PageBatch& batch) -> Expected<void> {
    descs.clear();
    uint64_t written = 0;
    for (const EncodedPage& page : batch.pages) {
      kdump::PageDesc desc;
      switch (page.outcome) {
        case PageOutcome::unavailable:
        case PageOutcome::unreadable:
          plan.drop(page.pfn);
          if (page.outcome == PageOutcome::unavailable) ++result.unavailable;
          else result.count_unreadable(page.pfn);
          window_changed = true;
          continue;
        case PageOutcome::zero:
          desc = zero_desc;
          ++result.zero_pages;
          break;
        case PageOutcome::raw:
        case PageOutcome::compressed:
          desc = {data_cursor + page.data_offset, page.size,
                  page.outcome == PageOutcome::compressed ? codec_flag : 0, 0};
          break;
      }
      auto encoded = kdump::encode_page_desc(desc);
      descs.insert(descs.end(), encoded.begin(), encoded.end());
      ++written;
    }
    // Data first: a descriptor on disk always points at data already there.
    CORONER_CHECK(out.write_at(data_cursor, batch.data));
    data_cursor += batch.data.size();
    CORONER_CHECK(out.write_at(desc_cursor, descs));
    desc_cursor += descs.size();
    result.pages_written += written;
    progress.advance(batch.pages.size());
    return {};
  };
  // The second pass's window: its 2nd bitmap as the first pass wrote it,
  // read back where the output allows (a file), else decided again.
  auto second_pass_window = [&]() -> Expected<void> {
    if (plan.one_window()) return plan.select_window(window);
    uint64_t end = std::min(plan.max_pfn, window + plan.window_pfns);
    plan.keep = PfnBitmap();
    PfnBitmap written(window, end);
    CORONER_TRY(read, out.read_back(bitmap2_at + window / 8, written.bytes().first((end - window + 7) / 8)));
    if (read) {
      plan.keep = std::move(written);
      return {};
    }
    written = PfnBitmap();  // one window's bitmap in memory at a time
    return plan.select_window(window);
  };
  // No page of the part lies beyond part.end_pfn.
  for (window = 0; window < std::min(plan.max_pfn, part.end_pfn); window += plan.window_pfns) {
    if (auto selected = second_pass_window(); !selected) return fail(selected.error());
    uint64_t start = std::max(part.start_pfn, window), end = std::min(part.end_pfn, window + plan.window_pfns);
    if (start >= end) continue;
    if (auto run = pipeline.run(plan.keep, start, end, consume); !run) return fail(run.error());
    // Pages the input lacked are out of the bitmap too.
    if (window_changed)
      if (auto w = write_window_bitmap(); !w) return fail(w.error());
  }
  progress.finish();

  if (!plan.erase_info.empty()) {
    // What --config erased, after the page data, as makedumpfile records it
    // (crash warns that kernel data was erased).
    sub.offset_eraseinfo = data_cursor;
    sub.size_eraseinfo = plan.erase_info.size();
    if (auto w = out.write_at(data_cursor, std::as_bytes(std::span(plan.erase_info))); !w) return fail(w.error());
    data_cursor += plan.erase_info.size();
    if (auto w = out.write_at(block, kdump::encode_sub_header(sub)); !w) return fail(w.error());
  }
  if (auto s = out.sync(); !s) return fail(s.error());
  header.status &= ~kdump::kFlagIncomplete;
  encoded_header = kdump::encode_disk_dump_header(header);
  if (auto w = out.write_at(0, encoded_header); !w) return fail(w.error());
  if (auto f = out.finish(); !f) return fail(f.error());
  return result;
}

}  // namespace coroner::capture
