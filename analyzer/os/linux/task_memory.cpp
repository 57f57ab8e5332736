#include "analyzer/os/linux/task_memory.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/task_state.hpp"

#include <array>

namespace coroner::linux_kernel {

namespace {

// enum mm_counter's resident kinds; their values come from DWARF, these
// are the kernel's since 4.5 (MM_SWAPENTS is 2).
constexpr std::array<std::pair<std::string_view, int64_t>, 3> kResidentCounters = {
    {{"MM_FILEPAGES", 0}, {"MM_ANONPAGES", 1}, {"MM_SHMEMPAGES", 3}}};

struct MemoryLayout {
  std::array<int64_t, 3> counters{};
  uint64_t total_vm = 0, rss_stat = 0;
  // Before 6.2: rss_stat.count[] of atomic_long_t; from 6.2: rss_stat[] of
  // struct percpu_counter { s64 count; s32 __percpu *counters; }.
  bool percpu = false;
  uint64_t counter_size = 8, counter_count = 0, counter_counters = 0;
  std::optional<uint64_t> task_rss_stat;  // task_struct.rss_stat.count[] (int), SPLIT_RSS_COUNTING
  uint64_t total_pages = 0;               // below high_memory
};

Expected<MemoryLayout> memory_layout(const Program& program) {
  MemoryLayout l;
  CORONER_TRY(info, program.debug_info());
  for (size_t i = 0; i < kResidentCounters.size(); ++i) {
    auto value = info->find_enumerator(kResidentCounters[i].first);
    l.counters[i] = value ? *value : kResidentCounters[i].second;
  }
  CORONER_TRY(total_vm, program.member_offset("struct mm_struct", "total_vm"));
  l.total_vm = total_vm;
  if (auto count = program.member_offset("struct mm_struct", "rss_stat.count")) {
    l.rss_stat = *count;
  } else {
    CORONER_TRY(rss_stat, program.member_offset("struct mm_struct", "rss_stat"));
    CORONER_TRY(size, program.type_size("struct percpu_counter"));
    CORONER_TRY(value, program.member_offset("struct percpu_counter", "count"));
    CORONER_TRY(counters, program.member_offset("struct percpu_counter", "counters"));
    l.percpu = true;
    l.rss_stat = rss_stat, l.counter_size = size, l.counter_count = value, l.counter_counters = counters;
  }
  if (auto cache = program.member_offset("struct task_struct", "rss_stat.count")) l.task_rss_stat = *cache;
  // crash's total: the pages below high_memory (the end of the direct map
  // of RAM).
  auto high_memory = global_object(program, "high_memory");
  auto end = high_memory ? high_memory->read_unsigned() : Expected<uint64_t>(high_memory.error());
  auto last = end ? program.memory().to_physical(*end - 1) : Expected<uint64_t>(end.error());
  if (last) l.total_pages = (*last + 1) / program.arch().page_size();
  return l;
}

Expected<int64_t> percpu_counter_sum(const Program& program, const MemoryLayout& l, uint64_t counter) {
  const KernelMemory& mem = program.memory();
  CORONER_TRY(count, mem.read_value<int64_t>(counter + l.counter_count));
  CORONER_TRY(counters, mem.read_u64(counter + l.counter_counters));
  CORONER_TRY(cpus, possible_cpus(program));
  CORONER_TRY(offsets, global_object(program, "__per_cpu_offset"));
  int64_t sum = count;
  for (uint32_t cpu : cpus) {
    CORONER_TRY(slot, offsets.index(cpu));
    CORONER_TRY(offset, slot.read_unsigned());
    CORONER_TRY(part, mem.read_value<int32_t>(counters + offset));
    sum += part;
  }
  return sum;
}

Expected<uint64_t> resident_pages(const Program& program, const MemoryLayout& l, const Task& task,
                                  const TaskList& tasks) {
  const KernelMemory& mem = program.memory();
  int64_t rss = 0;
  for (int64_t counter : l.counters) {
    int64_t value = 0;
    if (l.percpu) {
      CORONER_TRY(sum, percpu_counter_sum(program, l, task.mm + l.rss_stat + counter * l.counter_size));
      value = sum;
    } else {
      CORONER_TRY(count, mem.read_value<int64_t>(task.mm + l.rss_stat + counter * 8));
      value = count;
    }
    // Updated asynchronously, a counter may read negative (get_mm_counter()).
    if (value > 0) rss += value;
  }
  if (l.task_rss_stat) {
    for (const Task& thread : tasks.tasks) {
      if (thread.tgid != task.tgid || thread.mm != task.mm || thread.idle) continue;
      for (int64_t counter : l.counters) {
        auto cached = mem.read_value<int32_t>(thread.address + *l.task_rss_stat + counter * 4);
        if (cached && *cached > 0) rss += *cached;
      }
    }
  }
  return static_cast<uint64_t>(rss);
}

}  // namespace

Expected<TaskMemory> task_memory(const Program& program, const Task& task, const TaskList& tasks) {
  TaskMemory result;
  const TaskStateBits& bits = task_state_bits(program);
  if (task.mm == 0 || task.kernel_thread() || task.exiting() || (task.state & (bits.zombie | bits.dead))) return result;
  struct Cached {
    Expected<MemoryLayout> layout;
  };
  const auto& cached = program.extension<Cached>([&] { return new Cached{memory_layout(program)}; });
  if (!cached.layout) return cached.layout.error();
  const MemoryLayout& l = *cached.layout;
  auto total_vm = program.memory().read_u64(task.mm + l.total_vm);
  if (!total_vm) return total_vm.error().context(fmt::format("mm_struct {:#x} of PID {}", task.mm, task.pid));
  auto rss = resident_pages(program, l, task, tasks);
  if (!rss) return rss.error().context(fmt::format("mm_struct {:#x} of PID {}", task.mm, task.pid));
  result.total_vm_pages = *total_vm;
  result.rss_pages = *rss;
  if (l.total_pages) result.percent = static_cast<double>(*rss) * 100.0 / static_cast<double>(l.total_pages);
  return result;
}

}  // namespace coroner::linux_kernel
