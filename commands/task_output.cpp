#include "commands/task_output.hpp"

#include "commands/interrupt.hpp"

namespace coroner::commands {

Expected<void> show_each_task(CommandContext& ctx, size_t count, bool single,
                              const std::function<Expected<nlohmann::json>(size_t)>& show_one) {
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < count; ++i) {
    CORONER_CHECK(check_interrupt());
    CORONER_TRY(document, show_one(i));
    if (ctx.json()) list.push_back(std::move(document));
  }
  if (ctx.json()) ctx.emit(single && list.size() == 1 ? list.front() : list);
  return {};
}

}  // namespace coroner::commands
