// The ELF reader reports a dump as incomplete when its writer left e_flags
// bit 0 set (makedumpfile's DUMP_ELF_INCOMPLETE; coroner-capture -E sets it
// until the last page is out), on the headers and notes of the real x86_64
// vmcore with that one bit changed.
#include "capture/format/elf_vmcore.hpp"
#include "tests/capture/format/memory_source.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>
#include <elf.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <fstream>

namespace coroner {
namespace {

const test::DumpCase& x86_64_vmcore() {
  for (const test::DumpCase& c : test::all_dumps())
    if (c.id == "x86_64/oops-kdump/vmcore") return c;
  FAIL("no fixture x86_64/oops-kdump/vmcore");
  throw std::logic_error("unreachable");
}

// The file up to the end of its notes: enough to open it (page reads then
// fail as truncated, which these tests do not do).
std::vector<std::byte> headers_and_notes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh{};
  REQUIRE(in.read(reinterpret_cast<char*>(&eh), sizeof eh));
  std::vector<Elf64_Phdr> phdrs(eh.e_phnum);
  in.seekg(static_cast<std::streamoff>(eh.e_phoff));
  REQUIRE(in.read(reinterpret_cast<char*>(phdrs.data()), static_cast<std::streamsize>(phdrs.size() * sizeof(Elf64_Phdr))));
  uint64_t end = 0;
  for (const Elf64_Phdr& ph : phdrs)
    if (ph.p_type == PT_NOTE) end = std::max(end, ph.p_offset + ph.p_filesz);
  REQUIRE(end > 0);
  std::vector<std::byte> bytes(end);
  in.seekg(0);
  REQUIRE(in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(end)));
  return bytes;
}

std::unique_ptr<Dump> open_with_flags(std::vector<std::byte> bytes, uint32_t flags) {
  std::memcpy(bytes.data() + offsetof(Elf64_Ehdr, e_flags), &flags, sizeof flags);
  auto dump = open_elf_dump(test::memory_source("flagged.elf", std::move(bytes)));
  if (!dump) FAIL(dump.error().message());
  return std::move(*dump);
}

}  // namespace

TEST_CASE("ELF reader: e_flags bit 0 marks the dump incomplete", "[elf][fixtures][incomplete]") {
  auto bytes = headers_and_notes(x86_64_vmcore().files().front());
  Elf64_Ehdr eh{};
  std::memcpy(&eh, bytes.data(), sizeof eh);
  REQUIRE(eh.e_flags == 0);  // the kernel's /proc/vmcore

  auto complete = open_with_flags(bytes, 0);
  CHECK_FALSE(complete->incomplete());
  CHECK(complete->description() == "ELF vmcore (kernel /proc/vmcore)");

  auto incomplete = open_with_flags(bytes, 0x1);
  CHECK(incomplete->incomplete());
  CHECK(incomplete->description() == "ELF vmcore (kernel /proc/vmcore), INCOMPLETE");
  // Everything else about the dump is unchanged.
  CHECK(incomplete->machine() == complete->machine());
  CHECK(incomplete->page_size() == complete->page_size());
  CHECK(incomplete->notes().size() == complete->notes().size());
  CHECK(incomplete->ranges().size() == complete->ranges().size());

  // Other bits mean nothing to the reader.
  CHECK_FALSE(open_with_flags(bytes, 0x2)->incomplete());
  CHECK(open_with_flags(bytes, 0x80000001)->incomplete());
}

}  // namespace coroner
