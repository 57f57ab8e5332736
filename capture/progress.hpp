// What coroner-capture tells the user while and after it writes: a
// progress bar on a terminal (nothing when stderr is a file or a pipe, as
// in a kdump initramfs log), and a closing report of what was excluded and
// why, like makedumpfile's.
#pragma once

#include "capture/filter/page_filter.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace coroner::capture {

class Progress {
 public:
  // Draws only when `wanted` and `stream` is a terminal.
  Progress(bool wanted, std::FILE* stream = stderr);
  void start(std::string label, uint64_t total);
  void advance(uint64_t count);
  // Completes the bar's line (no-op when nothing was drawn).
  void finish();
  bool drawing() const { return enabled_; }

 private:
  void draw(bool force);

  std::FILE* stream_;
  bool enabled_;
  std::string label_;
  uint64_t total_ = 0, done_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

// The closing numbers of a capture.
struct CaptureReport {
  FilterStats stats;             // pages by reason (zero counted by the writer)
  uint64_t unavailable = 0;      // kept pages the input held no data for
  uint64_t unreadable = 0;       // kept pages whose read failed (EIO)
  uint64_t unreadable_as_zeros = 0;  // of those, written as zeros (ELF output)
  uint64_t first_unreadable = 0;     // physical address of the first
  uint64_t page_size = 0;
  uint64_t pages_written = 0;
  uint64_t output_bytes = 0;
  uint64_t peak_rss = 0;         // bytes
  uint64_t peak_buffers = 0;     // bytes held by the page pipeline
  uint64_t erased_bytes = 0;     // --config: bytes overwritten
  double seconds = 0;
};

// Multi-line text, e.g. "Excluded pages: 102341 (92.1%)\n  zero: 42 ...".
std::string format_report(const CaptureReport& report);

// --mem-usage: makedumpfile's table of pages by kind (TYPE, PAGES,
// EXCLUDABLE, DESCRIPTION), the page size and the total.
std::string format_mem_usage(const CaptureReport& report);

// The closing error of a capture whose input failed some page reads.
std::string unreadable_message(const std::string& input, const CaptureReport& report);

// "12.3 MiB"
std::string human_bytes(uint64_t bytes);

}  // namespace coroner::capture
