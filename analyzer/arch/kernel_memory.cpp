#include "analyzer/arch/kernel_memory.hpp"

#include <algorithm>
#include <vector>

namespace coroner {

arch::EntryReader KernelMemory::entry_reader() const {
  return [this](uint64_t paddr) -> Expected<uint64_t> {
    uint64_t entry = 0;
    auto done = phys_.read(paddr, std::as_writable_bytes(std::span(&entry, 1)));
    if (!done) return done.error().context(fmt::format("page table entry at physical {:#x}", paddr));
    return entry;
  };
}

arch::Translation KernelMemory::translate(uint64_t vaddr, std::optional<uint64_t> root) const {
  return arch_.translate(root.value_or(arch_.kernel_root()), vaddr, entry_reader());
}

Expected<uint64_t> KernelMemory::to_physical(uint64_t vaddr, std::optional<uint64_t> root) const {
  uint64_t table = root.value_or(arch_.kernel_root());
  uint64_t page = arch_.page_size();
  uint64_t vpage = vaddr & ~(page - 1);
  {
    std::lock_guard lock(tlb_mutex_);
    auto space = tlb_.find(table);
    if (space != tlb_.end()) {
      auto hit = space->second.find(vpage);
      if (hit != space->second.end()) return hit->second + (vaddr - vpage);
    }
  }
  arch::Translation t = arch_.translate(table, vaddr, entry_reader());
  if (!t.paddr) {
    if (t.error) return *t.error;
    return make_error(Errc::not_mapped, "{:#x}: address not mapped", vaddr);
  }
  std::lock_guard lock(tlb_mutex_);
  auto& space = tlb_[table];
  if (space.size() > 65536) space.clear();
  space[vpage] = *t.paddr - (vaddr - vpage);
  return *t.paddr;
}

Expected<void> KernelMemory::read(uint64_t vaddr, std::span<std::byte> out, std::optional<uint64_t> root) const {
  uint64_t page = arch_.page_size();
  size_t done = 0;
  while (done < out.size()) {
    uint64_t addr = vaddr + done;
    size_t chunk = std::min<uint64_t>(out.size() - done, page - (addr & (page - 1)));
    auto paddr = to_physical(addr, root);
    if (!paddr) return paddr.error();
    auto got = phys_.read(*paddr, out.subspan(done, chunk));
    if (!got) return got.error().context(fmt::format("virtual address {:#x}", addr));
    done += chunk;
  }
  return {};
}

Expected<std::string> KernelMemory::read_string(uint64_t vaddr, size_t max) const {
  std::string result;
  uint64_t page = arch_.page_size();
  while (result.size() < max) {
    uint64_t addr = vaddr + result.size();
    size_t chunk = std::min<uint64_t>({max - result.size(), page - (addr & (page - 1)), 256});
    std::vector<std::byte> buf(chunk);
    CORONER_CHECK(read(addr, buf));
    for (std::byte b : buf) {
      if (b == std::byte{0}) return result;
      result.push_back(static_cast<char>(b));
    }
  }
  return result;
}

std::optional<std::vector<std::byte>> KernelMemory::read_allowing_gaps(uint64_t vaddr, uint64_t length) const {
  std::vector<std::byte> bytes(length);
  const uint64_t page = arch_.page_size();
  bool any = false;
  for (uint64_t offset = 0; offset < length;) {
    const uint64_t n = std::min(length - offset, page - ((vaddr + offset) & (page - 1)));
    const auto chunk = std::span(bytes).subspan(offset, n);
    if (read(vaddr + offset, chunk)) any = true;
    else std::fill(chunk.begin(), chunk.end(), std::byte{0});
    offset += n;
  }
  if (!any) return std::nullopt;
  return bytes;
}

}  // namespace coroner
