// The views of `ps` that show blocks per task instead of the table: -p
// (parents), -c (children), -g (thread group), -t (times), -l/-m (last
// run), -r (rlimits), -a (arguments and environment). Each appends
// crash-style text to `text` and one JSON object per task to `json`.
#pragma once

#include "analyzer/os/linux/tasks.hpp"
#include "commands/command.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace coroner::commands {

struct PsViewOutput {
  std::string text;
  nlohmann::json json = nlohmann::json::array();
};

using TaskRefs = std::vector<const linux_kernel::Task*>;

void show_parents(const linux_kernel::TaskList& list, const TaskRefs& tasks, PsViewOutput& out);
void show_children(const linux_kernel::TaskList& list, const TaskRefs& tasks, PsViewOutput& out);
void show_thread_groups(const linux_kernel::TaskList& list, const TaskRefs& tasks, PsViewOutput& out);
Expected<void> show_times(const Program& program, const TaskRefs& tasks, PsViewOutput& out);
// -l (the sched_info.last_arrival stamps) or, with `elapsed`, -m (the time
// since, from each CPU's runqueue clock); most recent first.
Expected<void> show_last_run(const Program& program, const TaskRefs& tasks, bool elapsed, PsViewOutput& out);
Expected<void> show_rlimits(const Program& program, const TaskRefs& tasks, PsViewOutput& out);
Expected<void> show_arguments(const Program& program, const TaskRefs& tasks, PsViewOutput& out);

}  // namespace coroner::commands
