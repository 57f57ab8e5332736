// A FreeBSD dump device (or an image of one) holding a kernel dump:
//
//   ... | leader | key (dumpkeysize) | dump extent (dumpextent) | trailer |
//
// leader and trailer are the same kerneldumpheader, each zero-padded to
// one block; the trailer is the device's last block and the dump data
// (dumplength bytes, compressed or not) starts the extent.
#pragma once

#include "capture/format/byte_source.hpp"
#include "capture/format/kerneldump_header.hpp"

namespace coroner::freebsd {

struct DeviceDump {
  KernelDumpHeader header;
  uint64_t leader_offset = 0;
  uint64_t trailer_offset = 0;
  uint64_t data_offset = 0;  // the dump's first byte; dump_length of them
};

// True when one of the block sizes a dump device can have, counted from the
// end of `source`, starts with a kerneldumpheader magic.
bool looks_like_dump_device(const ByteSource& source);

// Finds and checks the trailer and the leader (parity, version, leader ==
// trailer, the extent inside the device), and refuses what holds no
// readable memory image with the reason: a textdump, a dump savecore has
// already cleared, an encrypted dump.
Expected<DeviceDump> locate_device_dump(const ByteSource& source);

}  // namespace coroner::freebsd
