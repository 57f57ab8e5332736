#include "analyzer/os/linux/timers.hpp"

#include "analyzer/object.hpp"

#include <algorithm>
#include <set>

namespace coroner::linux_kernel {

namespace {

constexpr size_t kMaxTimersPerBucket = 1 << 20;

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

}  // namespace coroner::linux_kernel
