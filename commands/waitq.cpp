// waitq: the tasks waiting on a wait queue as crash's waitq ADDRESS |
// SYMBOL | STRUCT.MEMBER ADDRESS: one task header (PID TASK CPU COMMAND)
// per waiter, or "wait queue ... is empty".
#include "analyzer/os/linux/wait_queues.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/member_selection.hpp"
#include "commands/task_selection.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "waitq ADDRESS | SYMBOL | STRUCT.MEMBER ADDRESS";

Expected<void> run_waitq(CommandContext& ctx, const Arguments& args) {
  if (args.empty() || args.size() > 2) return make_error(Errc::invalid_argument, "usage: {}", kUsage);
  uint64_t head = 0;
  std::string name;
  const std::string& first = args[0];
  size_t dot = first.find('.');
  if (args.size() == 2) {
    if (dot == std::string::npos) return make_error(Errc::invalid_argument, "usage: {}", kUsage);
    CORONER_TRY(offset, parse_member_offset(ctx.program, first));
    CORONER_TRY(base, parse_address(ctx.program, args[1]));
    head = base + offset;
  } else {
    if (dot != std::string::npos) return make_error(Errc::invalid_argument, "must supply an address for {}", first.substr(0, dot));
    CORONER_TRY(address, parse_address(ctx.program, first));
    head = address;
    if (!parse_number(first, 16)) name = first;  // a symbol
  }
  CORONER_TRY(waiters, linux_kernel::wait_queue_waiters(ctx.program, head));
  std::vector<linux_kernel::Task> tasks;
  for (uint64_t waiter : waiters) {
    auto task = task_at(ctx.program, waiter);
    if (!task) break;  // a waiter that is no task (a custom wake function's data): crash stops there too
    tasks.push_back(*task);
  }
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& task : tasks) list.push_back(task_header_json(task));
    ctx.emit({{"wait_queue", fmt::format("{:#x}", head)}, {"waiters", list}});
    return {};
  }
  if (waiters.empty()) {
    if (name.empty()) ctx.out << fmt::format("wait queue {:x} is empty\n", head);
    else ctx.out << fmt::format("wait queue \"{}\" ({:x}) is empty\n", name, head);
  }
  for (const auto& task : tasks) ctx.out << task_header(task) << '\n';
  return {};
}

}  // namespace

Command waitq_command() {
  return {"waitq", "the tasks waiting on a wait queue",
          "  waitq ADDRESS | SYMBOL | STRUCT.MEMBER ADDRESS\n"
          "    the wait_queue_head_t at ADDRESS, the one named SYMBOL, or the STRUCT.MEMBER of the structure\n"
          "    at ADDRESS: PID TASK CPU COMMAND of each waiting task, in queue order\n"
          "  crash> waitq fx_wq",
          run_waitq};
}

}  // namespace coroner::commands
