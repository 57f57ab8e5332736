// Writes FreeBSD kernel dumps for the tests, laid out as the kernel's
// minidump writer (sys/{amd64,arm64}/*/minidump_machdep.c) and dump path
// (sys/kern/kern_shutdown.c) lay them out: the minidump file savecore keeps
// as vmcore.N, the dump-device image around it, a message buffer that has
// wrapped, savecore's info.N. Bytes only: what goes in (pages, page-table
// entries) is the caller's choice.
#pragma once

#include "capture/format/freebsd_minidump_header.hpp"
#include "capture/format/kerneldump_header.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coroner::test {

struct MinidumpContents {
  // arch, version, kernbase, dmap_*, flags; the section sizes are the writer's.
  freebsd::MinidumpHeader header;
  // The message-buffer section: msg_size ring bytes, then (panic dumps)
  // the struct msgbuf up to the page boundary.
  std::vector<std::byte> msgbuf;
  uint32_t msg_size = 0;
  // [start, end) physical ranges (amd64 v3, arm64 v2+; ignored otherwise).
  std::vector<std::pair<uint64_t, uint64_t>> dump_avail;
  // The page-table section's entries (a whole number of pages of them).
  std::vector<uint64_t> page_table;
  // Page-aligned physical address -> the page's bytes.
  std::map<uint64_t, std::vector<std::byte>> pages;
};

// The minidump (what savecore writes as vmcore.N).
std::string write_minidump(const MinidumpContents& contents);

// A message buffer of `area` bytes (a page multiple) as msgbufinit() lays
// it out: a ring of area - 72 bytes and struct msgbuf at its end, holding
// `text` written from the start, so that it wraps when text is longer than
// the ring. `*ring_size` receives msg_size.
std::vector<std::byte> wrapped_msgbuf(std::string_view text, size_t area, uint32_t* ring_size);

// A dump-device image: a 64 KiB metadata area, the leader, `payload`
// (the minidump, compressed or not) at the start of an extent of
// `header.dump_extent` bytes (at least the payload; the rest stale bytes),
// the trailer. dump_length is set from the payload.
std::string write_dump_device(std::string_view payload, freebsd::KernelDumpHeader header);

// The header of the tests' dump devices: `arch`'s MACHINE_ARCH and
// architecture version, host "crashbox", a two-line version string, a
// panic string, 512-byte blocks; lengths are write_dump_device's.
freebsd::KernelDumpHeader test_dump_header(freebsd::MinidumpArch arch, uint32_t version);

// savecore's info.N for `header` (printheader's text form).
std::string write_info_file(const freebsd::KernelDumpHeader& header, std::string_view device);

}  // namespace coroner::test
