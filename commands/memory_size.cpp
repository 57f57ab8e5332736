#include "commands/memory_size.hpp"

#include <fmt/format.h>

namespace coroner::commands {

std::string format_memory(uint64_t bytes, uint64_t page_size) {
  constexpr uint64_t kGiB = uint64_t{1} << 30, kMiB = uint64_t{1} << 20, kKiB = 1024;
  uint64_t next_gig = (bytes + kGiB - 1) / kGiB * kGiB;
  if (next_gig - bytes <= 64 * kMiB) bytes = next_gig;
  bytes = bytes / page_size * page_size;
  if (bytes == 0) return "0";
  auto size = static_cast<double>(bytes);
  std::string text = bytes >= kGiB ? fmt::format("{:.1f} GB", size / kGiB)
                     : bytes >= kMiB ? fmt::format("{:.1f} MB", size / kMiB)
                                     : fmt::format("{} KB", bytes / kKiB);
  if (auto at = text.find(".0 "); at != std::string::npos) text.erase(at, 2);
  return text;
}

}  // namespace coroner::commands
