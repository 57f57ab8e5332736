// A byte copy of a fixture dump that a test damages -- at physical
// addresses, at kernel virtual addresses (translated through the intact
// dump), or by excluding pages -- and writes under the test cache.
//
// ELF dumps are changed in place (PT_LOAD p_paddr -> p_offset).
// kdump-compressed pages are compressed, so a changed page is appended to
// the file uncompressed and its page descriptor pointed there; excluding a
// page clears its dumpable bit and removes its descriptor, as makedumpfile
// does for a filtered page. A flattened stream (QEMU's kdump-* output) is
// reassembled first: the copy is the kdump file makedumpfile -R would write.
#pragma once

#include "capture/format/flattened.hpp"
#include "capture/format/kdump_compressed.hpp"
#include "capture/format/kdump_header.hpp"
#include "tests/support/program_fixture.hpp"

#include <elf.h>

#include <array>
#include <bit>
#include <cstring>
#include <fstream>
#include <map>
#include <span>

namespace coroner::test {

class DumpEditor {
 public:
  // `intact` is the dump opened as it is; the copy is of its first file.
  DumpEditor(const DumpCase& dump, const Program& intact) : intact_(intact) {
    auto file = open_file_source(dump.files().front());
    REQUIRE(file);
    std::shared_ptr<const ByteSource> source = *file;
    std::array<std::byte, 16> head{};
    REQUIRE(source->read_at(0, head));
    if (looks_like_flattened(head)) {
      auto flat = open_flattened(source);
      REQUIRE(flat);
      source = *flat;
    }
    bytes_.resize(source->size());
    REQUIRE(source->read_at(0, std::as_writable_bytes(std::span(bytes_))));
    kdump_ = dynamic_cast<const KdumpDump*>(&intact.dump());
  }

  std::vector<char>& bytes() { return bytes_; }
  bool is_kdump() const { return kdump_ != nullptr; }
  const kdump::DiskDumpHeader& kdump_header() const { return kdump_->header(); }

  void write_physical(uint64_t paddr, std::span<const std::byte> data) {
    REQUIRE(!data.empty());
    const uint64_t offset = file_offset(paddr, data.size());  // may grow bytes_
    std::memcpy(bytes_.data() + offset, data.data(), data.size());
  }

  void write_u64(uint64_t vaddr, uint64_t value) {
    auto paddr = intact_.memory().to_physical(vaddr);
    REQUIRE(paddr);
    write_physical(*paddr, std::as_bytes(std::span(&value, 1)));
  }

  uint64_t read_u64(uint64_t vaddr) const {
    auto value = intact_.memory().read_u64(vaddr);
    REQUIRE(value);
    return *value;
  }

  // Clears pfn's dumpable bit and removes its descriptor: the pages after
  // it keep theirs (descriptors go by the rank among dumpable pages).
  void exclude_page(uint64_t pfn) {
    REQUIRE(kdump_);
    const uint64_t rank = rank_of(pfn), total = dumpable_pages();
    char* at = bytes_.data() + kdump::page_desc_offset(kdump_header()) + kdump::kPageDescSize * rank;
    std::memmove(at, at + kdump::kPageDescSize, kdump::kPageDescSize * (total - rank - 1));
    // The table is one descriptor shorter: its old last slot is a gap.
    std::memset(at + kdump::kPageDescSize * (total - rank - 1), 0, kdump::kPageDescSize);
    bytes_[bitmap2() + pfn / 8] = static_cast<char>(bitmap_byte(pfn / 8) & ~(1u << (pfn % 8)));
    raw_pages_.erase(pfn);
  }

  // The file offset of pfn's page descriptor (kdump).
  uint64_t descriptor_offset(uint64_t pfn) const {
    return kdump::page_desc_offset(kdump_header()) + kdump::kPageDescSize * rank_of(pfn);
  }

  std::string save(const std::string& name) const {
    const fs::path out = cache_dir() / name;
    const fs::path temp = out.string() + "." + std::to_string(::getpid());
    std::ofstream(temp, std::ios::binary).write(bytes_.data(), static_cast<std::streamsize>(bytes_.size()));
    fs::rename(temp, out);
    return out.string();
  }

 private:
  uint64_t file_offset(uint64_t paddr, uint64_t size) {
    if (kdump_) return kdump_offset(paddr, size);
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes_.data(), sizeof eh);
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
      Elf64_Phdr ph;
      std::memcpy(&ph, bytes_.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
      if (ph.p_type == PT_LOAD && paddr >= ph.p_paddr && paddr + size <= ph.p_paddr + ph.p_filesz)
        return ph.p_offset + (paddr - ph.p_paddr);
    }
    FAIL("physical address " << std::hex << paddr << " is in no PT_LOAD of the dump");
    return 0;
  }

  // The page holding paddr, stored raw at the end of the file (once).
  uint64_t kdump_offset(uint64_t paddr, uint64_t size) {
    const uint64_t block = static_cast<uint32_t>(kdump_header().block_size);
    const uint64_t pfn = paddr / block;
    REQUIRE((paddr + size - 1) / block == pfn);
    if (!raw_pages_.count(pfn)) {
      std::vector<std::byte> page(block);
      REQUIRE(intact_.dump().read(pfn * block, page));
      kdump::PageDesc desc{bytes_.size(), static_cast<uint32_t>(block), 0, 0};
      const auto encoded = kdump::encode_page_desc(desc);
      std::memcpy(bytes_.data() + descriptor_offset(pfn), encoded.data(), encoded.size());
      raw_pages_[pfn] = bytes_.size();
      const auto* raw = reinterpret_cast<const char*>(page.data());
      bytes_.insert(bytes_.end(), raw, raw + block);
    }
    return raw_pages_[pfn] + paddr % block;
  }

  uint64_t bitmap2() const { return kdump::bitmap_offset(kdump_header()) + kdump::bitmap_size(kdump_header()); }
  uint8_t bitmap_byte(uint64_t i) const { return static_cast<uint8_t>(bytes_[bitmap2() + i]); }

  uint64_t rank_of(uint64_t pfn) const {
    REQUIRE((bitmap_byte(pfn / 8) >> (pfn % 8) & 1) == 1);
    uint64_t rank = 0;
    for (uint64_t i = 0; i < pfn / 8; ++i) rank += std::popcount(bitmap_byte(i));
    return rank + std::popcount(static_cast<uint8_t>(bitmap_byte(pfn / 8) & ((1u << (pfn % 8)) - 1)));
  }

  uint64_t dumpable_pages() const {
    uint64_t total = 0;
    for (uint64_t i = 0; i < kdump::bitmap_size(kdump_header()); ++i) total += std::popcount(bitmap_byte(i));
    return total;
  }

  const Program& intact_;
  const KdumpDump* kdump_ = nullptr;
  std::vector<char> bytes_;
  std::map<uint64_t, uint64_t> raw_pages_;  // pfn -> file offset of its raw copy
};

}  // namespace coroner::test
