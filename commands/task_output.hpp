// The output loop of the commands that show one result per task (bt, vm,
// files, sig, task; foreach runs them over its selection): crash's text as
// each task's result is made, or one JSON document at the end. Ctrl-C is
// checked between tasks here, once for all of them.
#pragma once

#include "commands/command.hpp"

#include <functional>

namespace coroner::commands {

// Calls show_one(i) for i in [0, count): in text mode it prints task i's
// result (its return value is ignored); in JSON mode it returns task i's
// object. Stops with "interrupted" when Ctrl-C was pressed, with show_one's
// error when it fails. JSON: the object alone when `single` and there is
// one task, else an array of them.
Expected<void> show_each_task(CommandContext& ctx, size_t count, bool single,
                              const std::function<Expected<nlohmann::json>(size_t)>& show_one);

}  // namespace coroner::commands
