#include "analyzer/os/linux/kernel_config.hpp"

#include <zlib.h>

#include <cstring>
#include <vector>

namespace coroner::linux_kernel {

namespace {

constexpr std::string_view kMagicStart = "IKCFG_ST";
// A compressed config is some tens of KiB, the text some hundreds: larger
// sizes are misread symbols or corrupt data.
constexpr uint64_t kMaxBlob = uint64_t{16} << 20;
constexpr size_t kMaxText = size_t{64} << 20;

}  // namespace

Expected<std::string> unpack_kernel_config(std::span<const std::byte> blob) {
  if (blob.size() < kMagicStart.size() || std::memcmp(blob.data(), kMagicStart.data(), kMagicStart.size()) != 0)
    return make_error(Errc::corrupt, "kernel_config_data does not start with IKCFG_ST");
  z_stream stream{};
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) return make_error(Errc::corrupt, "zlib: inflateInit2 failed");
  std::span<const std::byte> gzip = blob.subspan(kMagicStart.size());
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(gzip.data()));
  stream.avail_in = static_cast<uInt>(gzip.size());
  std::string text;
  std::vector<char> chunk(size_t{1} << 16);
  int status = Z_OK;
  while (status == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    status = inflate(&stream, Z_NO_FLUSH);
    text.append(chunk.data(), chunk.size() - stream.avail_out);
    if (text.size() > kMaxText) status = Z_MEM_ERROR;
  }
  inflateEnd(&stream);
  // The stream ends before IKCFG_ED; anything but a clean end is corrupt.
  if (status != Z_STREAM_END)
    return make_error(Errc::corrupt, "kernel_config_data: the gzip stream is corrupt or cut short (zlib status {})",
                      status);
  return text;
}

Expected<std::string> kernel_config(const Program& program) {
  const symbols::SymbolTable& symbols = program.symbols();
  const symbols::Symbol* start = symbols.find("kernel_config_data");
  if (!start)
    return make_error(Errc::not_found, "kernel_config_data does not exist in this kernel (built without "
                      "CONFIG_IKCONFIG, or with it as a module)");
  uint64_t size = start->size;
  if (const symbols::Symbol* end = symbols.find("kernel_config_data_end"); end && end->address > start->address)
    size = end->address - start->address;
  if (size == 0 || size > kMaxBlob)
    return make_error(Errc::corrupt, "kernel_config_data at {:#x}: implausible size {}", start->address, size);
  std::vector<std::byte> blob(size);
  CORONER_CHECK(program.memory().read(start->address, blob));
  return unpack_kernel_config(blob);
}

}  // namespace coroner::linux_kernel
