// A tiny fake of a dumped kernel for tests of analyzer/os/linux: physical
// memory made of 4 KiB pages that can be written and removed, seen through
// FakeArch (virtual == physical), so that a test can lay out kernel
// structures at chosen virtual addresses.
#pragma once

#include "analyzer/arch/kernel_memory.hpp"
#include "tests/support/fake_arch.hpp"

#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace coroner::test {

class FakePhysicalMemory : public PhysicalMemory {
 public:
  static constexpr uint64_t kPage = kFakePage;

  Expected<void> read(uint64_t paddr, std::span<std::byte> out) const override {
    for (size_t done = 0; done < out.size();) {
      uint64_t addr = paddr + done;
      auto page = pages_.find(addr / kPage);
      if (page == pages_.end()) return make_error(Errc::not_in_dump, "physical {:#x}: not in dump", addr);
      size_t chunk = std::min<uint64_t>(out.size() - done, kPage - addr % kPage);
      std::memcpy(out.data() + done, page->second.data() + addr % kPage, chunk);
      done += chunk;
    }
    return {};
  }
  std::vector<PhysRange> ranges() const override { return {{0, uint64_t{1} << 32}}; }

  void write(uint64_t paddr, const void* data, size_t size) {
    auto* bytes = static_cast<const std::byte*>(data);
    for (size_t i = 0; i < size; ++i) {
      auto& page = pages_[(paddr + i) / kPage];
      if (page.empty()) page.resize(kPage);
      page[(paddr + i) % kPage] = bytes[i];
    }
  }
  template <typename T>
  void put(uint64_t paddr, T value) { write(paddr, &value, sizeof value); }
  // Zero-filled pages for [paddr, paddr + size).
  void map(uint64_t paddr, uint64_t size) {
    for (uint64_t p = paddr / kPage; p <= (paddr + size - 1) / kPage; ++p) pages_[p].resize(kPage);
  }
  void remove_page(uint64_t paddr) { pages_.erase(paddr / kPage); }

 private:
  std::map<uint64_t, std::vector<std::byte>> pages_;
};

// Fake physical memory seen through FakeArch, as KernelMemory.
struct FakeKernel {
  FakePhysicalMemory phys;
  FakeArch arch;
  KernelMemory memory{phys, arch};
};

}  // namespace coroner::test
