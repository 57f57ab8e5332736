#include "analyzer/os/linux/address_space_map.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/kernel_trees.hpp"

#include <algorithm>
#include <unordered_set>

namespace coroner::linux_kernel {

namespace {

// A task has at most 65530 VMAs by default (vm.max_map_count); a list
// longer than this is corrupt.
constexpr size_t kMaxVmas = 1 << 20;

// The counters get_mm_rss() adds: MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES
// (enum values from DWARF; MM_SHMEMPAGES since 4.5).
std::vector<int64_t> rss_counters(const Program& program) {
  std::vector<int64_t> counters;
  auto info = program.debug_info();
  if (!info) return counters;
  for (std::string_view name : {"MM_FILEPAGES", "MM_ANONPAGES", "MM_SHMEMPAGES"})
    if (auto value = (*info)->find_enumerator(name)) counters.push_back(*value);
  return counters;
}

// Sum of a struct percpu_counter (6.2+): its count plus every CPU's delta,
// as percpu_counter_sum().
Expected<int64_t> percpu_counter_sum(const Program& program, uint64_t counter) {
  CORONER_TRY(count_offset, program.member_offset("struct percpu_counter", "count"));
  CORONER_TRY(counters_offset, program.member_offset("struct percpu_counter", "counters"));
  const KernelMemory& memory = program.memory();
  CORONER_TRY(sum, memory.read_value<int64_t>(counter + count_offset));
  CORONER_TRY(deltas, memory.read_u64(counter + counters_offset));
  CORONER_TRY(cpus, possible_cpus(program));
  CORONER_TRY(offsets, global_object(program, "__per_cpu_offset"));
  for (uint32_t cpu : cpus) {
    CORONER_TRY(slot, offsets.index(cpu));
    CORONER_TRY(offset, slot.read_unsigned());
    CORONER_TRY(delta, memory.read_value<int32_t>(deltas + offset));
    sum += delta;
  }
  return sum;
}

Expected<uint64_t> mm_rss(const Program& program, uint64_t mm, std::span<const uint64_t> threads) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(rss_stat, program.member_offset("struct mm_struct", "rss_stat"));
  CORONER_TRY(info, program.debug_info());
  CORONER_TRY(location, info->find_member("struct mm_struct", "rss_stat"));
  CORONER_TRY(type, symbols::underlying(location.type));
  int64_t rss = 0;
  std::vector<int64_t> counters = rss_counters(program);
  if (type->kind() == symbols::TypeKind::array) {
    // 6.2+: struct percpu_counter rss_stat[NR_MM_COUNTERS].
    CORONER_TRY(size, program.type_size("struct percpu_counter"));
    for (int64_t i : counters) {
      CORONER_TRY(value, percpu_counter_sum(program, mm + rss_stat + i * size));
      rss += std::max<int64_t>(value, 0);
    }
    return rss;
  }
  // Before 6.2: struct mm_rss_stat { atomic_long_t count[]; }, and each
  // thread's unsynced share in task->rss_stat.count[] (int).
  CORONER_TRY(count, program.member_offset("struct mm_rss_stat", "count"));
  for (int64_t i : counters) {
    CORONER_TRY(value, memory.read_value<int64_t>(mm + rss_stat + count + i * 8));
    rss += std::max<int64_t>(value, 0);
  }
  auto task_stat = program.member_offset("struct task_struct", "rss_stat");
  auto task_count = program.member_offset("struct task_rss_stat", "count");
  if (task_stat && task_count) {
    for (uint64_t thread : threads)
      for (int64_t i : counters) {
        auto value = memory.read_value<int32_t>(thread + *task_stat + *task_count + i * 4);
        if (value && *value > 0) rss += *value;
      }
  }
  return rss;
}

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

Expected<MemoryUsage> memory_usage(const Program& program, uint64_t mm, std::span<const uint64_t> threads) {
  const KernelMemory& memory = program.memory();
  MemoryUsage usage;
  usage.mm = mm;
  CORONER_TRY(pgd_offset, program.member_offset("struct mm_struct", "pgd"));
  CORONER_TRY(total_vm_offset, program.member_offset("struct mm_struct", "total_vm"));
  CORONER_TRY(pgd, memory.read_u64(mm + pgd_offset));
  CORONER_TRY(total_vm, memory.read_u64(mm + total_vm_offset));
  CORONER_TRY(rss, mm_rss(program, mm, threads));
  usage.pgd = pgd, usage.total_vm_pages = total_vm, usage.rss_pages = rss;
  return usage;
}

Expected<VmaLayout> vma_layout(const Program& program) {
  struct Cached {
    Expected<VmaLayout> layout;
  };
  return program.extension<Cached>([&] { return new Cached{read_vma_layout(program)}; }).layout;
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
