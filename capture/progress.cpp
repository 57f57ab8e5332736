#include "capture/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <utility>

namespace coroner::capture {

Progress::Progress(bool wanted, std::FILE* stream) : stream_(stream), enabled_(wanted && ::isatty(fileno(stream))) {}

void Progress::start(std::string label, uint64_t total) {
  finish();
  label_ = std::move(label);
  total_ = total;
  done_ = 0;
  draw(true);
}

void Progress::advance(uint64_t count) {
  done_ += count;
  draw(false);
}

void Progress::finish() {
  if (!enabled_ || !drawn_) return;
  draw(true);
  std::fputc('\n', stream_);
  std::fflush(stream_);
  drawn_ = false;
}

void Progress::draw(bool force) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 40;
  uint64_t percent = total_ ? std::min<uint64_t>(100, done_ * 100 / total_) : 100;
  int filled = static_cast<int>(percent * kWidth / 100);
  fmt::print(stream_, "\r{} [{:=<{}}{: <{}}] {:3}%", label_, "", filled, "", kWidth - filled, percent);
  std::fflush(stream_);
  drawn_ = true;
}

std::string human_bytes(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < 1024 * 1024) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  if (bytes < uint64_t{1} << 30) return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024));
  return fmt::format("{:.2f} GiB", bytes / (1024.0 * 1024 * 1024));
}

std::string format_mem_usage(const CaptureReport& r) {
  const FilterStats& s = r.stats;
  uint64_t excluded = s.zero + s.cache + s.cache_private + s.user + s.free + s.hwpoison + s.offline;
  std::string text = "\nTYPE\t\tPAGES\t\t\tEXCLUDABLE\tDESCRIPTION\n";
  text += std::string(70, '-') + "\n";
  auto row = [&](std::string_view type, uint64_t pages, std::string_view excludable, std::string_view what) {
    text += fmt::format("{}\t{:<16}\t{}\t\t{}\n", type, pages, excludable, what);
  };
  row("ZERO\t", s.zero, "yes", "Pages filled with zero");
  row("NON_PRI_CACHE", s.cache, "yes", "Cache pages without private flag");
  row("PRI_CACHE", s.cache_private, "yes", "Cache pages with private flag");
  row("USER\t", s.user, "yes", "User process pages");
  row("FREE\t", s.free, "yes", "Free pages");
  row("KERN_DATA", s.total - excluded, "no", "Dumpable kernel data ");
  text += fmt::format("\npage size:\t\t{:<16}\n", r.page_size);
  text += fmt::format("Total pages on system:\t{:<16}\n", s.total);
  text += fmt::format("Total size on system:\t{:<16} Byte\n", s.total * r.page_size);
  return text;
}

std::string format_report(const CaptureReport& r) {
  const FilterStats& s = r.stats;
  uint64_t excluded = s.zero + s.cache + s.cache_private + s.user + s.free + s.hwpoison + s.offline + r.unavailable +
                      r.unreadable - r.unreadable_as_zeros;
  auto share = [&](uint64_t n) { return s.total ? 100.0 * n / s.total : 0.0; };
  std::string out;
  out += fmt::format("RAM pages        : {:>10}  ({})\n", s.total, human_bytes(s.total * r.page_size));
  out += fmt::format("Excluded pages   : {:>10}  ({:.1f}%)\n", excluded, share(excluded));
  auto row = [&](std::string_view name, uint64_t n) { out += fmt::format("  {:<23}: {:>10}\n", name, n); };
  row("filled with zero", s.zero);
  row("non-private cache", s.cache);
  row("private cache", s.cache_private);
  row("user process data", s.user);
  row("free", s.free);
  row("hwpoison", s.hwpoison);
  row("offline", s.offline);
  if (r.unavailable) row("not in the input dump", r.unavailable);
  if (r.unreadable) row("unreadable (I/O error)", r.unreadable);
  out += fmt::format("Written pages    : {:>10}  ({:.1f}%)\n", r.pages_written, share(r.pages_written));
  if (r.erased_bytes) out += fmt::format("Erased (--config): {} bytes\n", r.erased_bytes);
  out += fmt::format("Output size      : {}\n", human_bytes(r.output_bytes));
  double rate = r.seconds > 0 ? s.total * r.page_size / r.seconds : 0;
  out += fmt::format("Time             : {:.2f} s ({}/s of RAM)\n", r.seconds, human_bytes(static_cast<uint64_t>(rate)));
  out += fmt::format("Peak memory      : {} resident, {} in page buffers\n", human_bytes(r.peak_rss),
                     human_bytes(r.peak_buffers));
  return out;
}

std::string unreadable_message(const std::string& input, const CaptureReport& r) {
  uint64_t left_out = r.unreadable - r.unreadable_as_zeros;
  std::string how;
  if (left_out) how = fmt::format("{} left out of the dump (readers say they are not in it)", left_out);
  if (r.unreadable_as_zeros)
    how += fmt::format("{}{} written as zeros (an ELF dump cannot mark them)", how.empty() ? "" : ", ",
                       r.unreadable_as_zeros);
  return fmt::format("{}: {} page{} could not be read (I/O error), the first at physical address {:#x}: {}", input,
                     r.unreadable, r.unreadable == 1 ? "" : "s", r.first_unreadable, how);
}

}  // namespace coroner::capture
