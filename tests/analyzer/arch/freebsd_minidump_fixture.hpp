// FreeBSD minidumps made from the real Linux fixtures: the fixture's
// physical memory and kernel page tables laid out as FreeBSD's minidump
// writer lays them out (amd64: one PD page per GiB of the kernel window,
// with the real page-table pages dumped; arm64: one L3 entry per page of
// the window), its direct map, a dump_avail from the dump's RAM with a
// hole carved in, and a message buffer that has wrapped. The expected
// answers come from facts.json and from the Linux dump's own translation.
#pragma once

#include "capture/format/freebsd_minidump_header.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/freebsd_minidump_writer.hpp"

#include <string>
#include <vector>

namespace coroner::test {

struct MinidumpSample {
  std::string what;  // "kernel-text", "fx_magic", "linux_banner", ...
  uint64_t vaddr = 0;
  uint64_t paddr = 0;  // from the Linux dump's page tables (or facts' paddr)
  size_t length = 0;
  std::string sha256;  // facts.json's, or of the expected value's bytes
};

struct FixtureMinidump {
  MinidumpContents contents;
  std::vector<MinidumpSample> samples;
  uint64_t hole = 0;        // in no dump_avail range (v3 amd64, v2+ arm64)
  uint64_t not_dumped = 0;  // inside dump_avail, its page left out of the bitmap
  std::string log_text;     // everything written to the message buffer
};

// The fixture `c` (a Linux dump) as a minidump of `version`; the page size
// is the fixture's. Fails the test when the fixture cannot be read.
const FixtureMinidump& fixture_minidump(const DumpCase& c, uint32_t version);

// A kernel's loadable segments as they lie in memory: the bytes from
// `start` (page-aligned) on, .bss as zeros, gaps between segments zeroed.
struct KernelImage {
  uint64_t start = 0;
  std::vector<std::byte> bytes;
};
// The PT_LOAD segments of an ELF64 little-endian executable (the thread
// tests' kernel); fails the test when it is not one.
KernelImage load_kernel_image(const std::string& elf_path, uint64_t page);

// The first address of `made`'s kernel map where `size` bytes fit without
// covering a mapped page: a block boundary (amd64 2 MiB, one PDE; arm64 an
// L2 block) from which the page-table section's entries are all invalid.
// The thread tests link their kernel there.
uint64_t free_kernel_address(const FixtureMinidump& made, uint64_t size);

// Maps `image` in `made` at image.start, as the kernel's own pages: fresh
// physical pages (in dump_avail, away from the hole and the page left out
// of the bitmap) hold its bytes; amd64 v2/v3 reach them through a
// page-table page the PDE points to, amd64 v1 and arm64 through the
// section's own entries.
void map_kernel_image(FixtureMinidump& made, const KernelImage& image);

// The fixtures and minidump versions the FreeBSD tests make dumps of.
struct MinidumpVariant {
  std::string fixture;
  uint32_t version;
};
const std::vector<MinidumpVariant>& minidump_variants();

// Each container form of `minidump` (bytes), written under `dir`, as
// (name, path): vmcore.0 and vmcore.1.zst with savecore's info.N beside
// them, vmcore.2.gz alone, dump-device images with kerneldumpheader
// versions 1-4, and devices holding a zstd and a gzip stream.
std::vector<std::pair<std::string, std::string>> write_containers(const fs::path& dir, const std::string& minidump,
                                                                  freebsd::MinidumpArch arch);

}  // namespace coroner::test
