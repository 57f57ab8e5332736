#include "capture/format/flattened.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <string_view>
#include <vector>

namespace coroner {
namespace {

constexpr std::string_view kSignature{"makedumpfile\0\0\0\0", 16};
constexpr uint64_t kHeaderBlock = 4096;  // records start after the header block
constexpr size_t kRecordHeaderSize = 16;
constexpr int64_t kFlatType = 1;
constexpr int64_t kFlatVersion = 1;
constexpr int64_t kEndMarker = -1;
// Holes (bytes no record wrote) are only header padding in real streams; a
// stream whose records claim a file far larger than their data is hostile.
constexpr uint64_t kMaxHoleSlack = uint64_t{16} << 20;

int64_t load_be64(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<uint64_t>(p[i]);
  return static_cast<int64_t>(v);
}

// A run of the reassembled file that one record supplies.
struct Segment {
  uint64_t offset = 0;  // in the reassembled file
  uint64_t size = 0;
  uint64_t stream_offset = 0;
  uint64_t end() const { return offset + size; }
};

struct Record {
  uint64_t offset, size, stream_offset;
};

// Non-overlapping segments where later records override earlier ones:
// records are laid down newest first, each filling only what is still free.
std::vector<Segment> paint(const std::vector<Record>& records) {
  std::map<uint64_t, Segment> covered;
  for (auto r = records.rbegin(); r != records.rend(); ++r) {
    uint64_t cur = r->offset, end = r->offset + r->size;
    auto it = covered.upper_bound(cur);
    if (it != covered.begin() && std::prev(it)->second.end() > cur) cur = std::prev(it)->second.end();
    while (cur < end) {
      it = covered.lower_bound(cur);
      uint64_t gap_end = it == covered.end() ? end : std::min(end, it->first);
      if (gap_end > cur) covered.emplace(cur, Segment{cur, gap_end - cur, r->stream_offset + (cur - r->offset)});
      if (it == covered.end() || it->first >= end) break;
      cur = it->second.end();
    }
  }
  std::vector<Segment> segments;
  segments.reserve(covered.size());
  for (auto& [offset, segment] : covered) segments.push_back(segment);
  return segments;
}

class FlattenedSource final : public ByteSource {
 public:
  FlattenedSource(std::shared_ptr<const ByteSource> stream, std::vector<Segment> segments, uint64_t size)
      : stream_(std::move(stream)), segments_(std::move(segments)), size_(size) {}

  const std::string& name() const override { return stream_->name(); }
  uint64_t size() const override { return size_; }

  Expected<void> read_at(uint64_t offset, std::span<std::byte> out) const override {
    if (offset > size_ || out.size() > size_ - offset)
      return make_error(Errc::truncated,
                        "{}: the flattened stream's file ends at offset {:#x}, wanted {} bytes at offset {:#x}",
                        name(), size_, out.size(), offset);
    size_t done = 0;
    auto it = first_segment_after(offset);
    while (done < out.size()) {
      uint64_t at = offset + done;
      size_t want = out.size() - done;
      if (it != segments_.end() && it->offset <= at) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(want, it->end() - at));
        CORONER_CHECK(stream_->read_at(it->stream_offset + (at - it->offset), out.subspan(done, n)));
        done += n;
        ++it;
      } else {
        // A hole: zero up to the next segment.
        uint64_t next = it == segments_.end() ? size_ : it->offset;
        size_t n = static_cast<size_t>(std::min<uint64_t>(want, next - at));
        std::memset(out.data() + done, 0, n);
        done += n;
      }
    }
    return {};
  }

  std::span<const std::byte> view(uint64_t offset, uint64_t size) const override {
    auto it = first_segment_after(offset);
    if (it == segments_.end() || it->offset > offset || size > it->end() - offset) return {};
    return stream_->view(it->stream_offset + (offset - it->offset), size);
  }

 private:
  // The segment holding `offset`, else the first one after it.
  std::vector<Segment>::const_iterator first_segment_after(uint64_t offset) const {
    auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                               [](uint64_t value, const Segment& s) { return value < s.offset; });
    if (it != segments_.begin() && std::prev(it)->end() > offset) return std::prev(it);
    return it;
  }

  std::shared_ptr<const ByteSource> stream_;
  std::vector<Segment> segments_;
  uint64_t size_;
};

}  // namespace

bool looks_like_flattened(std::span<const std::byte> head) {
  constexpr std::string_view magic = "makedumpfile";
  return head.size() >= magic.size() && std::memcmp(head.data(), magic.data(), magic.size()) == 0;
}

Expected<std::shared_ptr<const ByteSource>> open_flattened(std::shared_ptr<const ByteSource> stream) {
  const std::string& name = stream->name();
  std::array<std::byte, 32> header{};
  if (stream->size() < kHeaderBlock)
    return make_error(Errc::truncated, "{}: flattened stream ends at offset {:#x}, inside its {}-byte header block",
                      name, stream->size(), kHeaderBlock);
  CORONER_CHECK(stream->read_at(0, header));
  if (std::memcmp(header.data(), kSignature.data(), kSignature.size()) != 0)
    return make_error(Errc::corrupt, "{}: not a flattened dump (no \"makedumpfile\" signature at offset 0)", name);
  int64_t type = load_be64(header.data() + 16), version = load_be64(header.data() + 24);
  if (type != kFlatType || version != kFlatVersion)
    return make_error(Errc::unsupported, "{}: flattened stream of type {} version {} (only type 1 version 1 is known)",
                      name, type, version);

  std::vector<Record> records;
  uint64_t pos = kHeaderBlock, data_bytes = 0, file_size = 0;
  const uint64_t stream_size = stream->size();
  for (;;) {
    std::array<std::byte, kRecordHeaderSize> raw{};
    if (stream_size - pos < raw.size())
      return make_error(Errc::truncated,
                        "{}: flattened stream ends at offset {:#x} without its end marker (transfer cut short?)",
                        name, stream_size);
    CORONER_CHECK(stream->read_at(pos, raw));
    int64_t offset = load_be64(raw.data()), size = load_be64(raw.data() + 8);
    if (offset == kEndMarker && size == kEndMarker) break;
    if (offset < 0 || size < 0 || static_cast<uint64_t>(size) > std::numeric_limits<uint64_t>::max() / 2 -
                                                                    static_cast<uint64_t>(offset))
      return make_error(Errc::corrupt, "{}: bad flattened record header at offset {:#x}: offset {}, size {}", name,
                        pos, offset, size);
    pos += raw.size();
    if (static_cast<uint64_t>(size) > stream_size - pos)
      return make_error(Errc::truncated,
                        "{}: flattened record at offset {:#x} wants {} bytes, the stream ends at offset {:#x}", name,
                        pos - raw.size(), size, stream_size);
    if (size > 0) records.push_back({static_cast<uint64_t>(offset), static_cast<uint64_t>(size), pos});
    pos += static_cast<uint64_t>(size);
    data_bytes += static_cast<uint64_t>(size);
    file_size = std::max(file_size, static_cast<uint64_t>(offset + size));
  }
  if (file_size > 2 * data_bytes + kMaxHoleSlack)
    return make_error(Errc::corrupt, "{}: flattened records claim a file of {} bytes from only {} bytes of data", name,
                      file_size, data_bytes);
  return std::shared_ptr<const ByteSource>(std::make_shared<FlattenedSource>(stream, paint(records), file_size));
}

bool is_flattened(const ByteSource& source) { return dynamic_cast<const FlattenedSource*>(&source) != nullptr; }

}  // namespace coroner
