// Keeps a memory-mapped input from filling the dumper's resident set. The
// format readers map their files (fast, and /proc/vmcore supports it);
// every page the writer copies then stays mapped, and a 64 GB vmcore would
// show as 64 GB resident. After every few MiB copied, the trimmer drops
// this process's mappings of the input files (madvise MADV_DONTNEED on a
// read-only file mapping only unmaps; a later access faults the page in
// again from the page cache), so the peak stays bounded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace coroner::capture {

class MappedInputTrimmer {
 public:
  explicit MappedInputTrimmer(const std::vector<std::string>& files);
  // Notes `bytes` more of input copied; trims once enough has accumulated.
  void consumed(uint64_t bytes);
  // Drops the mapped pages of the input files now.
  void trim();

 private:
  std::vector<std::string> paths_;  // canonical, as /proc/self/maps names them
  uint64_t since_trim_ = 0;
};

// Peak resident set size of this process so far, in bytes.
uint64_t peak_rss_bytes();

}  // namespace coroner::capture
