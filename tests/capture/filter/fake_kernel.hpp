// A tiny fake kernel for page-filter tests: physical memory in a vector,
// a direct map at kDirectMap (the only virtual addresses), and helpers to
// lay out mem_section and struct pages like a 6.1 x86_64 kernel.
#pragma once

#include "analyzer/arch/kernel_memory.hpp"
#include "capture/format/dump.hpp"
#include "tests/support/fake_arch.hpp"

#include <cstring>
#include <string>
#include <vector>

namespace coroner::test {

// Where FakeArch(kDirectMap) maps physical memory, as x86_64 does.
constexpr uint64_t kDirectMap = 0xffff888000000000;

// Physical memory [0, bytes.size()) described by `ranges`.
class FakeDump : public Dump {
 public:
  FakeDump(size_t pages, std::vector<PhysRange> ranges) : bytes_(pages * kFakePage), ranges_(std::move(ranges)) {}
  std::string_view format_name() const override { return "fake"; }
  std::string description() const override { return "fake"; }
  Machine machine() const override { return Machine::x86_64; }
  const std::vector<std::string>& files() const override { return files_; }
  const std::vector<ElfNote>& notes() const override { return notes_; }
  uint64_t page_size() const override { return kFakePage; }
  Expected<void> read(uint64_t paddr, std::span<std::byte> out) const override {
    if (paddr > bytes_.size() || bytes_.size() - paddr < out.size())
      return make_error(Errc::not_in_dump, "physical {:#x}: not in the fake dump", paddr);
    std::memcpy(out.data(), bytes_.data() + paddr, out.size());
    return {};
  }
  std::vector<PhysRange> ranges() const override { return ranges_; }

  template <typename T>
  void put(uint64_t paddr, T value) {
    std::memcpy(bytes_.data() + paddr, &value, sizeof value);
  }

 private:
  std::vector<std::byte> bytes_;
  std::vector<PhysRange> ranges_;
  std::vector<std::string> files_{"fake-dump"};
  std::vector<ElfNote> notes_;
};

}  // namespace coroner::test
