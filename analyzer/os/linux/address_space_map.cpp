#include "analyzer/os/linux/address_space_map.hpp"

#include "analyzer/os/linux/cached_layout.hpp"

#include <unordered_set>

namespace coroner::linux_kernel {

namespace {

// A task has at most 65530 VMAs by default (vm.max_map_count); a list
// longer than this is corrupt.
constexpr size_t kMaxVmas = 1 << 20;

Expected<VmaLayout> read_vma_layout(const Program& program) {
  VmaLayout l;
  CORONER_TRY(start, program.member_offset("struct vm_area_struct", "vm_start"));
  CORONER_TRY(end, program.member_offset("struct vm_area_struct", "vm_end"));
  CORONER_TRY(flags, program.member_offset("struct vm_area_struct", "vm_flags"));
  CORONER_TRY(file, program.member_offset("struct vm_area_struct", "vm_file"));
  CORONER_TRY(pgoff, program.member_offset("struct vm_area_struct", "vm_pgoff"));
  l.start = start, l.end = end, l.flags = flags, l.file = file, l.pgoff = pgoff;
  if (auto tree = program.member_offset("struct mm_struct", "mm_mt")) {
    CORONER_TRY(maple, maple_tree_layout(program));
    l.mm_mt = *tree, l.maple = maple;
    return l;
  }
  CORONER_TRY(mmap, program.member_offset("struct mm_struct", "mmap"));
  CORONER_TRY(next, program.member_offset("struct vm_area_struct", "vm_next"));
  l.mmap = mmap, l.next = next;
  return l;
}

Expected<Vma> read_vma(const KernelMemory& memory, const VmaLayout& l, uint64_t address) {
  Vma v;
  v.address = address;
  CORONER_TRY(start, memory.read_u64(address + l.start));
  CORONER_TRY(end, memory.read_u64(address + l.end));
  CORONER_TRY(flags, memory.read_u64(address + l.flags));
  CORONER_TRY(file, memory.read_u64(address + l.file));
  CORONER_TRY(pgoff, memory.read_u64(address + l.pgoff));
  v.start = start, v.end = end, v.flags = flags, v.file = file, v.pgoff = pgoff;
  return v;
}

// 6.1+: the VMAs are the maple tree's entries.
Expected<VmaList> maple_vmas(const KernelMemory& memory, const VmaLayout& layout, uint64_t tree) {
  CORONER_TRY(entries, walk_maple_tree(memory, layout.maple, tree, kMaxVmas));
  VmaList list;
  for (const RangeEntry& entry : entries) {
    auto vma = read_vma(memory, layout, entry.value);
    if (!vma) {
      list.stopped = vma.error().context(fmt::format("VMA {:#x} of the maple tree at {:#x}", entry.value, tree));
      continue;  // the tree's other entries are still good
    }
    list.vmas.push_back(*vma);
  }
  return list;
}

// Before 6.1: mm->mmap, linked by vm_next, NULL-terminated.
VmaList linked_vmas(const KernelMemory& memory, const VmaLayout& layout, uint64_t first) {
  VmaList list;
  std::unordered_set<uint64_t> seen;
  for (uint64_t address = first; address != 0;) {
    if (!seen.insert(address).second) {
      list.stopped = make_error(Errc::corrupt, "VMA list: VMA {:#x} is reached twice (a loop)", address);
      break;
    }
    if (seen.size() > kMaxVmas) {
      list.stopped = make_error(Errc::corrupt, "VMA list: more than {} VMAs", kMaxVmas);
      break;
    }
    auto vma = read_vma(memory, layout, address);
    auto next = vma ? memory.read_u64(address + layout.next) : Expected<uint64_t>(vma.error());
    if (!next) {
      list.stopped = next.error().context(fmt::format("VMA {:#x}", address));
      break;
    }
    list.vmas.push_back(*vma);
    address = *next;
  }
  return list;
}

}  // namespace

Expected<uint64_t> page_table_address(const Program& program, uint64_t mm) {
  CORONER_TRY(pgd, program.member_offset("struct mm_struct", "pgd"));
  return program.memory().read_u64(mm + pgd);
}

Expected<VmaLayout> vma_layout(const Program& program) {
  return cached_layout(program, read_vma_layout);
}

Expected<VmaList> list_vmas(const Program& program, uint64_t mm) {
  CORONER_TRY(layout, vma_layout(program));
  return list_vmas(program.memory(), layout, mm);
}

Expected<VmaList> list_vmas(const KernelMemory& memory, const VmaLayout& layout, uint64_t mm) {
  if (layout.mm_mt) {
    auto list = maple_vmas(memory, layout, mm + *layout.mm_mt);
    if (!list) return list.error().context(fmt::format("VMAs of mm_struct {:#x}", mm));
    return list;
  }
  auto first = memory.read_u64(mm + layout.mmap);
  if (!first) return first.error().context(fmt::format("VMAs of mm_struct {:#x}", mm));
  return linked_vmas(memory, layout, *first);
}

}  // namespace coroner::linux_kernel
