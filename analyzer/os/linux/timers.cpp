#include "analyzer/os/linux/timers.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/kernel_trees.hpp"

#include <algorithm>
#include <set>

namespace coroner::linux_kernel {

namespace {

constexpr size_t kMaxTimersPerBucket = 1 << 20;
constexpr size_t kMaxHrTimersPerBase = 1 << 20;

Expected<uint64_t> array_length(const Object& object) {
  CORONER_TRY(type, object.underlying_type());
  if (type->kind() != symbols::TypeKind::array || !type->length())
    return make_error(Errc::unsupported, "not an array of known length");
  return *type->length();
}

}  // namespace

Expected<std::vector<TimerBase>> timer_bases(const Program& program, const std::vector<uint32_t>& cpus) {
  CORONER_TRY(bases, find_kernel_global(program, "timer_bases"));
  CORONER_TRY(base_count, array_length(bases.object));
  CORONER_TRY(vectors, program.member_offset("struct timer_base", "vectors"));
  CORONER_TRY(base_size, program.type_size("struct timer_base"));
  CORONER_TRY(entry, program.member_offset("struct timer_list", "entry"));
  CORONER_TRY(expires, program.member_offset("struct timer_list", "expires"));
  CORONER_TRY(function, program.member_offset("struct timer_list", "function"));
  const KernelMemory& memory = program.memory();
  std::vector<TimerBase> result;
  for (uint32_t cpu : cpus) {
    CORONER_TRY(array, per_cpu(bases, cpu));
    CORONER_TRY(first_base, array.index(0));
    CORONER_TRY(vector_array, first_base.member("vectors"));
    CORONER_TRY(vector_count, array_length(vector_array));
    for (unsigned b = 0; b < base_count; ++b) {
      TimerBase& base = result.emplace_back();
      base.cpu = cpu, base.index = b, base.address = *array.address() + b * base_size;
      for (uint64_t v = 0; v < vector_count; ++v) {
        uint64_t head = base.address + vectors + v * 8;  // struct hlist_head: one pointer
        auto node = memory.read_u64(head);
        std::set<uint64_t> seen;
        while (node && *node) {
          if (!seen.insert(*node).second || seen.size() > kMaxTimersPerBucket) {
            base.skipped.push_back(make_error(Errc::corrupt, "CPU {} timer_base {:#x}: vectors[{}] loops at {:#x}",
                                              cpu, base.address, v, *node));
            break;
          }
          uint64_t timer = *node - entry;
          auto when = memory.read_u64(timer + expires);
          auto fn = memory.read_u64(timer + function);
          if (!when || !fn) {
            base.skipped.push_back((!when ? when.error() : fn.error()).context(fmt::format("timer_list {:#x}", timer)));
            break;
          }
          base.timers.push_back({timer, *when, *fn});
          node = memory.read_u64(*node);  // hlist_node.next
        }
        if (!node)
          base.skipped.push_back(node.error().context(fmt::format("CPU {} timer_base {:#x}: vectors[{}]", cpu,
                                                                  base.address, v)));
      }
      std::stable_sort(base.timers.begin(), base.timers.end(),
                       [](const Timer& a, const Timer& c) { return a.expires < c.expires; });
    }
  }
  return result;
}

Expected<std::vector<HrTimerCpuBase>> hrtimer_bases(const Program& program, const std::vector<uint32_t>& cpus) {
  CORONER_TRY(bases, find_kernel_global(program, "hrtimer_bases"));
  CORONER_TRY(clock_base, program.member_offset("struct hrtimer_cpu_base", "clock_base"));
  CORONER_TRY(clock_base_size, program.type_size("struct hrtimer_clock_base"));
  CORONER_TRY(active, program.member_offset("struct hrtimer_clock_base", "active"));
  // timerqueue_head.rb_root (an rb_root_cached, 4.14+) or .head (an rb_root); both begin with the rb_root.
  auto queue_root = program.member_offset("struct timerqueue_head", "rb_root");
  if (!queue_root) queue_root = program.member_offset("struct timerqueue_head", "head");
  if (!queue_root) return queue_root.error();
  CORONER_TRY(timer_node, program.member_offset("struct hrtimer", "node"));
  CORONER_TRY(queue_node, program.member_offset("struct timerqueue_node", "node"));
  CORONER_TRY(queue_expires, program.member_offset("struct timerqueue_node", "expires"));
  CORONER_TRY(softexpires, program.member_offset("struct hrtimer", "_softexpires"));
  CORONER_TRY(function, program.member_offset("struct hrtimer", "function"));
  auto get_time = program.member_offset("struct hrtimer_clock_base", "get_time");  // gone in 6.18
  auto offset = program.member_offset("struct hrtimer_clock_base", "offset");
  auto index = program.member_offset("struct hrtimer_clock_base", "index");
  CORONER_TRY(rb, rbtree_layout(program));
  CORONER_TRY(first_cpu, per_cpu(bases, 0));
  CORONER_TRY(clocks, first_cpu.member("clock_base"));
  CORONER_TRY(clock_count, array_length(clocks));
  // enum hrtimer_base_type names the bases where get_time no longer does.
  std::vector<std::string> type_names;
  CORONER_TRY(types, kernel_types(program));
  if (auto type = types->find_type("enum hrtimer_base_type"))
    if (auto e = symbols::underlying(*type))
      for (const symbols::Enumerator& value : (*e)->enumerators())
        if (value.value < 64) {
          if (type_names.size() <= value.value) type_names.resize(value.value + 1);
          type_names[value.value] = value.name;
        }
  const KernelMemory& memory = program.memory();
  std::vector<HrTimerCpuBase> result;
  for (uint32_t cpu : cpus) {
    CORONER_TRY(cpu_base, per_cpu(bases, cpu));
    HrTimerCpuBase& entry = result.emplace_back();
    entry.cpu = cpu, entry.address = *cpu_base.address();
    for (unsigned c = 0; c < clock_count; ++c) {
      HrTimerClockBase& base = entry.clocks.emplace_back();
      base.index = c, base.address = entry.address + clock_base + c * clock_base_size;
      if (get_time) base.get_time = memory.read_u64(base.address + *get_time).value_or(0);
      if (offset) base.offset = static_cast<int64_t>(memory.read_u64(base.address + *offset).value_or(0));
      if (index)
        if (auto i = memory.read_u32(base.address + *index); i && *i < type_names.size()) base.clock_name = type_names[*i];
      auto nodes = walk_rbtree(memory, rb, base.address + active + *queue_root, RbOrder::linear, false,
                               kMaxHrTimersPerBase);
      if (!nodes) {
        base.skipped = nodes.error().context(fmt::format("CPU {} hrtimer_clock_base {:#x}", cpu, base.address));
        continue;
      }
      for (const RbNode& node : *nodes) {
        HrTimer timer;
        timer.address = node.address - queue_node - timer_node;
        auto expires = memory.read_u64(timer.address + timer_node + queue_expires);
        auto soft = memory.read_u64(timer.address + softexpires);
        auto fn = memory.read_u64(timer.address + function);
        if (!expires || !soft || !fn) {
          base.skipped = (!expires ? expires.error() : !soft ? soft.error() : fn.error())
                             .context(fmt::format("hrtimer {:#x}", timer.address));
          break;
        }
        timer.expires = static_cast<int64_t>(*expires), timer.softexpires = static_cast<int64_t>(*soft);
        timer.function = *fn;
        base.timers.push_back(timer);
      }
    }
  }
  return result;
}

}  // namespace coroner::linux_kernel
