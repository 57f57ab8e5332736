#include "analyzer/frontends/command_line/aliases.hpp"

#include "analyzer/frontends/command_line/line_parts.hpp"

#include <fmt/format.h>

#include <algorithm>

#include <ostream>

namespace coroner::frontends {

Aliases::Aliases() {
  // crash 8.0.2's list less g (gdb), px/pd (commands here) and size (`*`).
  for (auto [name, command] : {std::pair{"man", "help"}, {"?", "help"}, {"quit", "q"}, {"sf", "set scroll off"},
                               {"sn", "set scroll on"}, {"hex", "set radix 16"}, {"dec", "set radix 10"},
                               {"for", "foreach"}, {"dmesg", "log"}, {"lsmod", "mod"}})
    aliases_.push_back({name, {command, true}});
}

const Aliases::Alias* Aliases::find(std::string_view name) const {
  for (const auto& [alias, value] : aliases_)
    if (alias == name) return &value;
  return nullptr;
}

std::string Aliases::expand(const std::string& line) const {
  std::string expanded(trim(line));
  for (int depth = 0; depth < 8; ++depth) {
    const size_t end = expanded.find_first_of(" \t");
    const Alias* alias = find(std::string_view(expanded).substr(0, end));
    if (!alias) break;
    expanded = alias->command + (end == std::string::npos ? "" : expanded.substr(end));
  }
  return expanded;
}

std::vector<std::string> Aliases::names() const {
  std::vector<std::string> names;
  for (const auto& entry : aliases_) names.push_back(entry.first);
  return names;
}

Expected<void> Aliases::run(const commands::Arguments& args, const commands::CommandContext& context) {
  if (args.size() >= 2) {
    std::string command;
    for (size_t i = 1; i < args.size(); ++i) command += (i > 1 ? " " : "") + args[i];
    auto existing = std::find_if(aliases_.begin(), aliases_.end(), [&](const auto& e) { return e.first == args[0]; });
    if (existing != aliases_.end()) existing->second = {command, false};
    else aliases_.push_back({args[0], {command, false}});
  }
  nlohmann::json list = nlohmann::json::array();
  if (!context.json() && args.empty()) context.out << "ORIGIN   ALIAS    COMMAND\n";
  for (const auto& [name, alias] : aliases_) {
    if (!args.empty() && name != args[0]) continue;
    const char* origin = alias.builtin ? "builtin" : "runtime";
    if (context.json()) list.push_back({{"origin", origin}, {"alias", name}, {"command", alias.command}});
    else context.out << fmt::format("{:<8} {:<8} {}\n", origin, name, alias.command);
  }
  if (!args.empty() && !find(args[0])) return make_error(Errc::not_found, "alias: {}: no such alias", args[0]);
  if (context.json()) context.emit(list);
  return {};
}

}  // namespace coroner::frontends
