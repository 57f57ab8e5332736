// The kernel message buffer of a FreeBSD minidump (sys/sys/msgbuf.h): the
// msgbuf section holds the ring's msg_size bytes and, in a panic dump, the
// live struct msgbuf after them (msgbufinit() puts it at the end of the
// area). Read as dmesg -M does without symbols: from the next write
// position (msg_wseq % msg_size) round to it, leading NULs of a ring not yet
// full dropped, syslog "<N>" tags stripped.
#pragma once

#include "capture/format/error.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace coroner::freebsd {

struct MessageBuffer {
  std::vector<std::string> lines;
  // From the struct msgbuf after the ring, when its magic and size match;
  // without it the ring is read from its start.
  std::optional<uint32_t> write_sequence, read_sequence;
};

// `section` is the minidump's msgbuf section, `ring_size` its header's
// msgbufsize. Errors name the minidump (`name`).
Expected<MessageBuffer> decode_message_buffer(std::span<const std::byte> section, uint32_t ring_size,
                                              std::string_view name);

}  // namespace coroner::freebsd
