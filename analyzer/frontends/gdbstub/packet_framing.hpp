// The framing of the gdb remote serial protocol: `$payload#ck` packets with
// a modulo-256 checksum, `+`/`-` acknowledgements, the interrupt byte
// (0x03), and the encodings inside payloads (hex, the `}` escape of binary
// data). Pure byte handling, no I/O: the session feeds received bytes to a
// PacketReader and writes what encode_packet returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::gdbstub {

// The largest payload accepted from a client (and advertised as
// PacketSize): bigger packets are dropped whole and answered with a `-`.
inline constexpr size_t kMaxPacketSize = 0x4000;

struct ReceivedEvent {
  enum class Kind {
    packet,        // a whole packet with a good checksum: payload holds it (escapes undone)
    bad_packet,    // checksum mismatch, bad checksum digits or oversized: to be NAKed
    ack,           // '+'
    nack,          // '-': the client wants the last packet again
    interrupt,     // 0x03
  } kind;
  std::string payload;
};

// Splits a byte stream into events. Bytes between packets other than the
// ones above are ignored (line noise); a packet is bounded by
// kMaxPacketSize, so a client cannot make the stub buffer without end.
class PacketReader {
 public:
  // Consumes `bytes`, appending the events they complete to `events`.
  void feed(std::string_view bytes, std::vector<ReceivedEvent>& events);

 private:
  enum class State { idle, payload, escape, checksum1, checksum2 } state_ = State::idle;
  std::string payload_;
  uint8_t sum_ = 0;         // running checksum of the bytes as sent
  uint8_t checksum_ = 0;    // the one the client sent
  bool checksum_bad_ = false;
  bool oversized_ = false;
};

// "$payload#ck", escaping '$', '#', '}' and '*' in payload.
std::string encode_packet(std::string_view payload);

// Two lower-case hex digits per byte.
std::string to_hex(std::span<const std::byte> bytes);
std::string to_hex(std::string_view text);
// Hex digits to bytes; nullopt for an odd length or a non-hex digit.
std::optional<std::string> from_hex(std::string_view hex);
// A hexadecimal number with no prefix, as the protocol writes addresses,
// lengths and thread ids; nullopt when empty, not hex or above 64 bits.
std::optional<uint64_t> parse_hex_number(std::string_view text);
// A little-endian value of `bytes` bytes in hex (register contents).
std::string little_endian_hex(uint64_t value, size_t bytes);

}  // namespace coroner::gdbstub
