#include "analyzer/frontends/gdbstub/packet_framing.hpp"

namespace coroner::gdbstub {

namespace {

std::optional<uint8_t> hex_digit(char c) {
  if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<uint8_t>(c - 'A' + 10);
  return std::nullopt;
}

constexpr char kHexDigits[] = "0123456789abcdef";

}  // namespace

void PacketReader::feed(std::string_view bytes, std::vector<ReceivedEvent>& events) {
  for (char c : bytes) {
    uint8_t byte = static_cast<uint8_t>(c);
    switch (state_) {
      case State::idle:
        if (c == '$') {
          state_ = State::payload;
          payload_.clear();
          sum_ = 0;
          checksum_bad_ = oversized_ = false;
        } else if (c == '+') {
          events.push_back({ReceivedEvent::Kind::ack, {}});
        } else if (c == '-') {
          events.push_back({ReceivedEvent::Kind::nack, {}});
        } else if (byte == 0x03) {
          events.push_back({ReceivedEvent::Kind::interrupt, {}});
        }
        break;
      case State::payload:
      case State::escape:
        if (c == '#' && state_ == State::payload) {
          state_ = State::checksum1;
          break;
        }
        sum_ = static_cast<uint8_t>(sum_ + byte);
        if (state_ == State::escape) {
          state_ = State::payload;
          byte ^= 0x20;
        } else if (c == '}') {
          state_ = State::escape;
          break;
        }
        if (payload_.size() < kMaxPacketSize) payload_.push_back(static_cast<char>(byte));
        else oversized_ = true;
        break;
      case State::checksum1:
      case State::checksum2: {
        auto digit = hex_digit(c);
        if (!digit) checksum_bad_ = true;
        checksum_ = static_cast<uint8_t>((checksum_ << 4) | digit.value_or(0));
        if (state_ == State::checksum1) {
          state_ = State::checksum2;
          break;
        }
        state_ = State::idle;
        if (checksum_bad_ || oversized_ || checksum_ != sum_) {
          events.push_back({ReceivedEvent::Kind::bad_packet, {}});
          payload_.clear();
        } else {
          events.push_back({ReceivedEvent::Kind::packet, std::move(payload_)});
          payload_ = {};
        }
        break;
      }
    }
  }
}

std::string encode_packet(std::string_view payload) {
  std::string out = "$";
  uint8_t sum = 0;
  auto put = [&](char c) {
    out.push_back(c);
    sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
  };
  for (char c : payload) {
    if (c == '$' || c == '#' || c == '}' || c == '*') {
      put('}');
      put(static_cast<char>(c ^ 0x20));
    } else {
      put(c);
    }
  }
  out.push_back('#');
  out.push_back(kHexDigits[sum >> 4]);
  out.push_back(kHexDigits[sum & 0xf]);
  return out;
}

std::string to_hex(std::span<const std::byte> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    out.push_back(kHexDigits[std::to_integer<uint8_t>(b) >> 4]);
    out.push_back(kHexDigits[std::to_integer<uint8_t>(b) & 0xf]);
  }
  return out;
}

std::string to_hex(std::string_view text) { return to_hex(std::as_bytes(std::span(text.data(), text.size()))); }

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto high = hex_digit(hex[i]), low = hex_digit(hex[i + 1]);
    if (!high || !low) return std::nullopt;
    out.push_back(static_cast<char>((*high << 4) | *low));
  }
  return out;
}

std::optional<uint64_t> parse_hex_number(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    auto digit = hex_digit(c);
    if (!digit) return std::nullopt;
    value = (value << 4) | *digit;
  }
  return value;
}

std::string little_endian_hex(uint64_t value, size_t bytes) {
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    uint8_t b = i < 8 ? static_cast<uint8_t>(value >> (8 * i)) : 0;
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 0xf]);
  }
  return out;
}

}  // namespace coroner::gdbstub
