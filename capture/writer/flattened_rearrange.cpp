#include "capture/writer/flattened_rearrange.hpp"

#include "capture/format/byte_order.hpp"
#include "capture/format/flattened.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

namespace coroner::capture {
namespace {

constexpr size_t kHeaderSize = 4096;
constexpr uint64_t kEndMarker = ~uint64_t{0};
constexpr uint64_t kMaxRecord = uint64_t{1} << 30;  // a sanity bound: writers emit pages and headers

// Reads exactly data.size() bytes; false at a clean end of the stream
// before the first byte.
Expected<bool> read_fully(int fd, const std::string& name, uint64_t position, std::span<std::byte> data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return make_error(Errc::io, "{}: read at stream offset {:#x} failed: {}", name, position + done,
                        std::strerror(errno));
    if (n == 0) {
      if (done == 0) return false;
      return make_error(Errc::truncated, "{}: the stream ends at offset {:#x}, inside a record", name,
                        position + done);
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Expected<uint64_t> rearrange_flattened(int fd, const std::string& name, OutputSink& out) {
  std::vector<std::byte> buffer(kHeaderSize);
  CORONER_TRY(got_header, read_fully(fd, name, 0, buffer));
  if (!got_header || !looks_like_flattened(buffer))
    return make_error(Errc::unsupported, "{}: not a flattened dump (no \"makedumpfile\" header): give -R the output of -F",
                      name);
  uint64_t type = load_be64(buffer.data() + 16), version = load_be64(buffer.data() + 24);
  if (type != 1 || version != 1)
    return make_error(Errc::unsupported, "{}: flattened stream of type {} version {}, only type 1 version 1 is known",
                      name, type, version);
  uint64_t position = kHeaderSize, records = 0;
  std::array<std::byte, 16> record{};
  for (;;) {
    CORONER_TRY(more, read_fully(fd, name, position, record));
    if (!more)
      return make_error(Errc::truncated, "{}: the stream ends at offset {:#x} without its end record", name, position);
    uint64_t offset = load_be64(record.data()), size = load_be64(record.data() + 8);
    if (offset == kEndMarker && size == kEndMarker) return records;
    if (offset >> 63 || size > kMaxRecord)
      return make_error(Errc::corrupt, "{}: bad record header at stream offset {:#x} (offset {:#x}, size {})", name,
                        position, offset, size);
    position += record.size();
    buffer.resize(size);
    CORONER_TRY(whole, read_fully(fd, name, position, buffer));
    if (!whole && size)
      return make_error(Errc::truncated, "{}: the stream ends at offset {:#x}, inside a record", name, position);
    CORONER_CHECK(out.write_at(offset, buffer));
    position += size;
    ++records;
  }
}

}  // namespace coroner::capture
