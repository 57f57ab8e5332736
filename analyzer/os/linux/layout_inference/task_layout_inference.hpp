// struct task_struct and the members of struct rq the task list needs,
// found in memory: init_task (its comm "swapper", its stack init_stack),
// the circular task list through it, each CPU's runqueue, whose idle task
// is swapper/N, and the switched-out stack frames (after the heuristics of
// drgn's and crash's "no debug info" explorations, checked on every task).
#pragma once

#include <optional>
#include <vector>

#include "analyzer/os/linux/layout_inference/memory_probe.hpp"

namespace coroner::linux_kernel::inference {

struct TaskOffsets {
  uint64_t comm = 0, tasks = 0, pid = 0, stack = 0, state = 0, flags = 0, cpu = 0, real_parent = 0, group_leader = 0,
           mm = 0, exit_state = 0;
  // 3.14+: task->thread_node in signal->thread_head.
  uint64_t thread_node = 0, signal = 0, thread_head = 0;
  std::optional<uint64_t> rss_stat;   // struct task_rss_stat (SPLIT_RSS_COUNTING, before 6.2)
  uint64_t rq_curr = 0, rq_idle = 0;  // in struct rq
  // x86_64: thread.sp and the layout of struct inactive_task_frame (the
  // return address's offset; the registers below it).
  std::optional<uint64_t> thread_sp, frame_return;
  // arm64: thread.cpu_context.
  std::optional<uint64_t> cpu_context;

  // What the search found: every task (leaders, threads, idle tasks), and
  // which of them are user processes (not kernel threads).
  std::vector<uint64_t> all_tasks, user_tasks;
};

Expected<TaskOffsets> infer_task_offsets(const MemoryProbe& probe);

}  // namespace coroner::linux_kernel::inference
