#include "analyzer/os/linux/interrupts.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/cached_layout.hpp"
#include "analyzer/os/linux/kernel_trees.hpp"

#include <map>
#include <set>

namespace coroner::linux_kernel {

namespace {

constexpr uint32_t kMaxIrqs = 1 << 20;    // far above IRQ_BITMAP_BITS (NR_IRQS + 8196)
constexpr size_t kMaxActions = 1024;      // shared handlers on one line
constexpr size_t kMaxName = 256;

struct InterruptLayout {
  uint64_t action = 0, action_next = 0, action_name = 0;
  uint64_t chip = 0, chip_name = 0;  // irq_desc.irq_data.chip, irq_chip.name
  std::optional<uint64_t> desc_name;
  uint64_t kstat_irqs = 0;
  uint64_t affinity = 0;          // irq_common_data.affinity (irq_data.affinity before 4.3)
  bool affinity_is_pointer = false;  // cpumask_var_t with CPUMASK_OFFSTACK
  uint64_t desc_size = 0;
};

Expected<InterruptLayout> read_interrupt_layout(const Program& program) {
  InterruptLayout l;
  CORONER_TRY(action, program.member_offset("struct irq_desc", "action"));
  CORONER_TRY(next, program.member_offset("struct irqaction", "next"));
  CORONER_TRY(name, program.member_offset("struct irqaction", "name"));
  CORONER_TRY(chip, program.member_offset("struct irq_desc", "irq_data.chip"));
  CORONER_TRY(chip_name, program.member_offset("struct irq_chip", "name"));
  CORONER_TRY(kstat, program.member_offset("struct irq_desc", "kstat_irqs"));
  CORONER_TRY(size, program.type_size("struct irq_desc"));
  l.action = action, l.action_next = next, l.action_name = name, l.chip = chip, l.chip_name = chip_name;
  l.kstat_irqs = kstat, l.desc_size = size;
  if (auto desc_name = program.member_offset("struct irq_desc", "name")) l.desc_name = *desc_name;
  std::string_view affinity_path = "irq_common_data.affinity";
  if (!program.member_offset("struct irq_desc", affinity_path)) affinity_path = "irq_data.affinity";
  CORONER_TRY(types, kernel_types(program));
  CORONER_TRY(desc_type, types->find_type("struct irq_desc"));
  CORONER_TRY(location, types->member(desc_type, affinity_path));
  CORONER_TRY(mask_type, symbols::underlying(location.type));
  l.affinity = location.bit_offset / 8;
  l.affinity_is_pointer = mask_type->kind() == symbols::TypeKind::pointer;
  return l;
}

Expected<InterruptLayout> interrupt_layout(const Program& program) {
  return cached_layout(program, read_interrupt_layout);
}

// Each IRQ's descriptor address, by IRQ number.
Expected<std::map<uint64_t, uint64_t>> descriptors(const Program& program, uint32_t nr_irqs,
                                                   const InterruptLayout& l) {
  std::map<uint64_t, uint64_t> found;
  if (auto tree = program.kernel_symbol_address("irq_desc_tree")) {
    CORONER_TRY(layout, xarray_layout(program));
    CORONER_TRY(entries, walk_xarray(program.memory(), layout, *tree, kMaxIrqs));
    for (const IndexedEntry& e : entries) found[e.index] = e.value;
    return found;
  }
  if (auto tree = program.kernel_symbol_address("sparse_irqs")) {
    CORONER_TRY(layout, maple_tree_layout(program));
    CORONER_TRY(entries, walk_maple_tree(program.memory(), layout, *tree, kMaxIrqs));
    for (const RangeEntry& e : entries)
      for (uint64_t irq = e.first; irq <= e.last && irq < nr_irqs; ++irq) found[irq] = e.value;
    return found;
  }
  // No SPARSE_IRQ: the irq_desc[NR_IRQS] array.
  CORONER_TRY(array, program.kernel_symbol_address("irq_desc"));
  for (uint32_t irq = 0; irq < nr_irqs; ++irq) found[irq] = array + irq * l.desc_size;
  return found;
}

Expected<std::string> name_at_pointer(const KernelMemory& memory, uint64_t pointer_address) {
  CORONER_TRY(pointer, memory.read_u64(pointer_address));
  if (pointer == 0) return std::string();
  return memory.read_string(pointer, kMaxName);
}

class InterruptReader {
 public:
  InterruptReader(const Program& program, const InterruptLayout& l, const std::vector<uint32_t>& cpus,
                  uint32_t cpu_count)
      : program_(program), memory_(program.memory()), l_(l), cpus_(cpus), cpu_count_(cpu_count) {}

  void read(Interrupt& irq) {
    auto fail = [&](const Error& e) { irq.error = e.context(fmt::format("IRQ {} (irq_desc {:#x})", irq.irq, irq.desc)); };
    auto action = memory_.read_u64(irq.desc + l_.action);
    if (!action) return fail(action.error());
    std::set<uint64_t> seen;
    for (uint64_t a = *action; a != 0;) {
      if (!seen.insert(a).second || seen.size() > kMaxActions)
        return fail(make_error(Errc::corrupt, "irqaction list loops at {:#x}", a));
      irq.actions.push_back({a, name_at_pointer(memory_, a + l_.action_name).value_or("")});
      auto next = memory_.read_u64(a + l_.action_next);
      if (!next) return fail(next.error());
      a = *next;
    }
    auto chip = memory_.read_u64(irq.desc + l_.chip);
    if (chip && *chip) irq.chip = name_at_pointer(memory_, *chip + l_.chip_name).value_or("");
    if (l_.desc_name) irq.flow = name_at_pointer(memory_, irq.desc + *l_.desc_name).value_or("");
    if (auto mask = affinity(irq.desc)) irq.affinity = std::move(*mask);
    else return fail(mask.error());
    auto kstat = memory_.read_u64(irq.desc + l_.kstat_irqs);
    if (!kstat) return fail(kstat.error());
    for (uint32_t cpu : cpus_) {
      // A per-CPU unsigned int (struct irqstat's first member, cnt, since 6.10).
      auto offset = cpu_offset(cpu);
      auto count = offset && *kstat ? memory_.read_u32(*kstat + *offset) : Expected<uint32_t>(0);
      if (!count) return fail(count.error());
      irq.counts.push_back(*count);
    }
  }

 private:
  Expected<std::vector<uint32_t>> affinity(uint64_t desc) {
    uint64_t mask = desc + l_.affinity;
    if (l_.affinity_is_pointer) {
      CORONER_TRY(pointer, memory_.read_u64(mask));
      if (pointer == 0) return std::vector<uint32_t>();
      mask = pointer;
    }
    std::vector<uint32_t> cpus;
    for (uint32_t word = 0; word * 64 < cpu_count_; ++word) {
      CORONER_TRY(bits, memory_.read_u64(mask + 8 * word));
      for (uint32_t bit = 0; bit < 64 && word * 64 + bit < cpu_count_; ++bit)
        if ((bits >> bit) & 1) cpus.push_back(word * 64 + bit);
    }
    return cpus;
  }

  Expected<uint64_t> cpu_offset(uint32_t cpu) {
    if (auto it = offsets_.find(cpu); it != offsets_.end()) return it->second;
    CORONER_TRY(offsets, kernel_object(program_, "__per_cpu_offset"));
    CORONER_TRY(slot, offsets.index(cpu));
    CORONER_TRY(offset, slot.read_unsigned());
    offsets_[cpu] = offset;
    return offset;
  }

  const Program& program_;
  const KernelMemory& memory_;
  const InterruptLayout& l_;
  const std::vector<uint32_t>& cpus_;
  uint32_t cpu_count_;
  std::map<uint32_t, uint64_t> offsets_;
};

}  // namespace

Expected<InterruptTable> interrupts(const Program& program, const std::vector<uint32_t>& cpus) {
  CORONER_TRY(l, interrupt_layout(program));
  CORONER_TRY(nr_object, kernel_object(program, "nr_irqs"));
  CORONER_TRY(nr_irqs, nr_object.read_unsigned());
  if (nr_irqs > kMaxIrqs) return make_error(Errc::corrupt, "nr_irqs is {}", nr_irqs);
  CORONER_TRY(ids, kernel_object(program, "nr_cpu_ids"));
  CORONER_TRY(cpu_count, ids.read_unsigned());
  CORONER_TRY(descs, descriptors(program, static_cast<uint32_t>(nr_irqs), l));
  InterruptTable table;
  table.nr_irqs = static_cast<uint32_t>(nr_irqs);
  InterruptReader reader(program, l, cpus, static_cast<uint32_t>(std::min<uint64_t>(cpu_count, 65536)));
  for (uint32_t irq = 0; irq < table.nr_irqs; ++irq) {
    Interrupt& entry = table.irqs.emplace_back();
    entry.irq = irq;
    if (auto it = descs.find(irq); it != descs.end()) entry.desc = it->second;
    if (entry.desc) reader.read(entry);
  }
  return table;
}

}  // namespace coroner::linux_kernel
