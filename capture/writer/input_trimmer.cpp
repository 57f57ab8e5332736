#include "capture/writer/input_trimmer.hpp"

#include "capture/format/vmcoreinfo.hpp"

#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace coroner::capture {
namespace {

constexpr uint64_t kTrimInterval = 16 * 1024 * 1024;

}  // namespace

MappedInputTrimmer::MappedInputTrimmer(const std::vector<std::string>& files) {
  for (const std::string& file : files) {
    std::error_code ec;
    auto canonical = std::filesystem::canonical(file, ec);
    paths_.push_back(ec ? file : canonical.string());
  }
}

void MappedInputTrimmer::consumed(uint64_t bytes) {
  since_trim_ += bytes;
  if (since_trim_ >= kTrimInterval) trim();
}

void MappedInputTrimmer::trim() {
  since_trim_ = 0;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    // "start-end perms offset dev inode   path"
    std::istringstream fields(line);
    std::string range, perms, offset, dev, inode, path;
    fields >> range >> perms >> offset >> dev >> inode;
    std::getline(fields >> std::ws, path);
    if (perms.size() < 2 || perms[1] == 'w') continue;  // only read-only mappings
    if (std::find(paths_.begin(), paths_.end(), path) == paths_.end()) continue;
    auto dash = range.find('-');
    if (dash == std::string::npos) continue;
    auto start = parse_uint(std::string_view(range).substr(0, dash), 16);
    auto end = parse_uint(std::string_view(range).substr(dash + 1), 16);
    if (!start || !end || *end < *start) continue;
    ::madvise(reinterpret_cast<void*>(*start), *end - *start, MADV_DONTNEED);
  }
}

uint64_t peak_rss_bytes() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}

}  // namespace coroner::capture
