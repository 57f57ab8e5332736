#include "symbols/cache_file.hpp"

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace coroner::symbols {

std::optional<std::vector<char>> read_cache_file(const std::string& file) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(file, ec);
  std::ifstream in(file, std::ios::binary);
  if (ec || !in) return std::nullopt;
  std::vector<char> bytes(size);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) return std::nullopt;
  return bytes;
}

Expected<void> write_cache_file(const std::string& file, std::initializer_list<std::string_view> parts) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(file).parent_path(), ec);
  if (ec) return make_error(Errc::io, "{}: {}", file, ec.message());
  const std::string temporary = fmt::format("{}.tmp.{}", file, getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    for (std::string_view part : parts) out.write(part.data(), static_cast<std::streamsize>(part.size()));
    out.close();
    if (!out) {
      std::filesystem::remove(temporary, ec);
      return make_error(Errc::io, "{}: cannot write the cache file", temporary);
    }
  }
  std::filesystem::rename(temporary, file, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    return make_error(Errc::io, "{}: {}", file, ec.message());
  }
  return {};
}

}  // namespace coroner::symbols
