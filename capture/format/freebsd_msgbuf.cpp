#include "capture/format/freebsd_msgbuf.hpp"

#include "capture/format/byte_order.hpp"

namespace coroner::freebsd {
namespace {

constexpr uint32_t kMsgMagic = 0x063062;
// struct msgbuf on LP64: msg_magic @8, msg_size @12, msg_wseq @16, msg_rseq @20.
constexpr size_t kMagicOffset = 8, kSizeOffset = 12, kWseqOffset = 16, kRseqOffset = 20, kFieldsEnd = 24;

// "<6>text" -> "text" (a log(9) priority); other lines as they are.
std::string without_priority(std::string line) {
  if (line.size() < 3 || line[0] != '<') return line;
  size_t close = line.find('>');
  if (close == std::string::npos || close == 1) return line;
  for (size_t i = 1; i < close; ++i)
    if (line[i] < '0' || line[i] > '9') return line;
  return line.substr(close + 1);
}

}  // namespace

Expected<MessageBuffer> decode_message_buffer(std::span<const std::byte> section, uint32_t ring_size,
                                              std::string_view name) {
  if (ring_size > section.size())
    return make_error(Errc::corrupt, "{}: message buffer of {} bytes is larger than its section of {}", name,
                      ring_size, section.size());
  MessageBuffer result;
  uint32_t start = 0;
  if (section.size() - ring_size >= kFieldsEnd) {
    const std::byte* msgbuf = section.data() + ring_size;
    if (load_le32(msgbuf + kMagicOffset) == kMsgMagic && load_le32(msgbuf + kSizeOffset) == ring_size &&
        ring_size != 0) {
      result.write_sequence = load_le32(msgbuf + kWseqOffset);
      result.read_sequence = load_le32(msgbuf + kRseqOffset);
      start = *result.write_sequence % ring_size;
    }
  }
  std::string text;
  text.reserve(ring_size + 1);
  const char* ring = reinterpret_cast<const char*>(section.data());
  text.append(ring + start, ring_size - start);
  text.append(ring, start);
  // The unwritten part of a ring not yet full: before the oldest byte when
  // read from the write position, after the newest when read from 0.
  size_t first = text.find_first_not_of('\0');
  text = first == std::string::npos ? std::string() : text.substr(first, text.find_last_not_of('\0') + 1 - first);
  if (!text.empty() && text.back() != '\n') text += '\n';
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    result.lines.push_back(without_priority(text.substr(at, end - at)));
    at = end + 1;
  }
  return result;
}

}  // namespace coroner::freebsd
