// struct mm_struct's page counters, found in the user processes' memory
// maps: total_vm in its block of counters, rss_stat right before binfmt
// (which points to elf_format in ELF processes).
#pragma once

#include "analyzer/os/linux/layout_inference/memory_probe.hpp"
#include "symbols/synthetic_btf.hpp"

namespace coroner::linux_kernel::inference {

// user_tasks: task_struct addresses of user processes; mm: the offset of
// task_struct.mm. The layouts of struct mm_struct and what its rss_stat
// spells (struct mm_rss_stat before 6.2, struct percpu_counter from 6.2).
Expected<std::vector<symbols::SyntheticStruct>> infer_mm_layouts(const MemoryProbe& probe,
                                                                 const std::vector<uint64_t>& user_tasks, uint64_t mm);

}  // namespace coroner::linux_kernel::inference
