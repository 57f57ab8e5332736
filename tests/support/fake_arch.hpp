// A fake architecture for synthetic tests: 4 KiB pages, virtual = physical
// + an offset, no page tables. FakeArch() maps every address to itself;
// FakeArch(direct_map) maps 1 TiB of physical memory at direct_map, as a
// kernel's direct map, and treats addresses below 2^47 as user addresses.
// Tests that need a register set derive from it.
#pragma once

#include "analyzer/arch/arch.hpp"
#include "capture/format/error.hpp"

#include <string>
#include <vector>

namespace coroner::test {

constexpr uint64_t kFakePage = 4096;

class FakeArch : public arch::Arch {
 public:
  FakeArch() = default;
  explicit FakeArch(uint64_t direct_map)
      : direct_map_(direct_map), mapped_size_(uint64_t{1} << 40), user_end_(uint64_t{1} << 47) {}

  Machine machine() const override { return Machine::x86_64; }
  std::string_view name() const override { return "fake"; }
  uint64_t page_size() const override { return kFakePage; }
  arch::Translation translate(uint64_t root, uint64_t vaddr, const arch::EntryReader&) const override {
    arch::Translation t;
    t.vaddr = vaddr, t.root = root, t.page_size = kFakePage;
    if (vaddr >= direct_map_ && vaddr - direct_map_ <= mapped_size_ - 1)
      t.paddr = vaddr - direct_map_;
    else
      t.error = make_error(Errc::not_mapped, "{:#x}: not mapped", vaddr);
    return t;
  }
  uint64_t kernel_root() const override { return 0; }
  bool is_user_address(uint64_t vaddr) const override { return vaddr < user_end_; }
  std::optional<uint64_t> direct_to_phys(uint64_t vaddr) const override { return vaddr - direct_map_; }
  const std::vector<std::string_view>& register_names() const override { return names_; }
  size_t pc_register() const override { return 0; }
  size_t sp_register() const override { return 0; }
  size_t fp_register() const override { return 0; }
  std::optional<size_t> lr_register() const override { return std::nullopt; }
  std::optional<size_t> dwarf_register(unsigned) const override { return std::nullopt; }
  uint64_t strip_pointer_auth(uint64_t address) const override { return address; }
  std::optional<uint64_t> linear_map_base() const override { return direct_map_; }

 private:
  uint64_t direct_map_ = 0;
  uint64_t mapped_size_ = 0;  // 0 with direct_map_ 0: all of the address space
  uint64_t user_end_ = 0;
  std::vector<std::string_view> names_{"pc"};
};

}  // namespace coroner::test
