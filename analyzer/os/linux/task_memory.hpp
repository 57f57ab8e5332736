// A task's memory use as crash's ps shows it (%MEM, VSZ, RSS), from its
// mm_struct: total_vm, and the resident pages of the mm counters
// (MM_FILEPAGES + MM_ANONPAGES + MM_SHMEMPAGES). The counters are
// mm->rss_stat.count[] (atomic_long_t) before 6.2 and per-CPU
// percpu_counters (mm->rss_stat[i]) from 6.2, picked by what DWARF shows.
// Kernels with SPLIT_RSS_COUNTING (up to 6.1) also keep up to 64 pages
// per thread in task_struct.rss_stat not yet folded into the mm; like
// crash, those caches of every thread of the group are added.
#pragma once

#include "analyzer/os/linux/tasks.hpp"

#include <cstdint>

namespace coroner::linux_kernel {

struct TaskMemory {
  uint64_t total_vm_pages = 0;
  uint64_t rss_pages = 0;
  double percent = 0;  // of the pages below high_memory, as crash counts
};

// All zero for a kernel thread and for an exiting or zombie task (crash
// shows them so); an error names what could not be read.
Expected<TaskMemory> task_memory(const Program& program, const Task& task, const TaskList& tasks);

}  // namespace coroner::linux_kernel
