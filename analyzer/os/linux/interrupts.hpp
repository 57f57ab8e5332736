// The kernel's interrupt descriptors (struct irq_desc) as crash's irq shows
// them: each IRQ below nr_irqs with its descriptor, its handlers (the
// irqaction list), its chip and flow names, its affinity and its per-CPU
// counts. Descriptors come from the sparse IRQ tree (irq_desc_tree, a radix
// tree / XArray, before 6.5; sparse_irqs, a maple tree, since) or from the
// irq_desc[] array without SPARSE_IRQ. Bounded: an unreadable descriptor or
// action list costs only that IRQ (Interrupt::error).
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct IrqAction {
  uint64_t address = 0;  // struct irqaction
  std::string name;      // "" when unreadable
};

struct Interrupt {
  uint32_t irq = 0;
  uint64_t desc = 0;  // 0: no descriptor (crash's "(unused)")
  std::vector<IrqAction> actions;
  std::string chip;             // irq_data.chip->name
  std::string flow;             // irq_desc.name ("edge", "fasteoi"), often none
  std::vector<uint32_t> affinity;  // CPUs of irq_common_data.affinity
  std::vector<uint64_t> counts;    // kstat_irqs of each CPU asked for
  std::optional<Error> error;
};

struct InterruptTable {
  uint32_t nr_irqs = 0;
  std::vector<Interrupt> irqs;  // 0 .. nr_irqs-1
};

// The IRQs, with counts for `cpus` (in that order); `cpu_count` bounds the
// affinity masks (nr_cpu_ids).
Expected<InterruptTable> interrupts(const Program& program, const std::vector<uint32_t>& cpus);

}  // namespace coroner::linux_kernel
