// help and q: the shell's own commands.
#include "commands/builtin.hpp"
#include "commands/command_usage.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

// crash's help page: NAME, SYNOPSIS, DESCRIPTION (options and notes),
// EXAMPLES, all from the command's usage text.
Expected<void> run_help(CommandContext& ctx, const Arguments& args) {
  if (!args.empty()) {
    const Command* c = find_command(args.front());
    if (!c) return make_error(Errc::invalid_argument, "no such command: {}", args.front());
    const CommandUsage usage = parse_usage(*c);
    if (ctx.json()) {
      ctx.emit({{"name", c->name},
                {"summary", c->summary},
                {"synopsis", usage.synopsis},
                {"description", usage.details},
                {"examples", usage.examples}});
      return {};
    }
    ctx.out << "NAME\n  " << c->name << " - " << c->summary << "\n\nSYNOPSIS\n" << usage.synopsis;
    if (!usage.details.empty()) ctx.out << "\nDESCRIPTION\n" << usage.details;
    if (!usage.examples.empty()) ctx.out << "\nEXAMPLES\n";
    for (const std::string& example : usage.examples) ctx.out << "  crash> " << example << '\n';
    return {};
  }
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const Command& c : all_commands()) list.push_back({{"name", c.name}, {"summary", c.summary}});
    ctx.emit({{"commands", list}});
    return {};
  }
  for (const Command& c : all_commands()) ctx.out << fmt::format("{:<8} {}\n", c.name, c.summary);
  ctx.out << "\nFor help on a command: help COMMAND\n"
             "Any command takes --output json (or text) for its output alone: bt --output json 1\n";
  return {};
}

Expected<void> run_quit(CommandContext& ctx, const Arguments&) {
  ctx.quit = true;
  return {};
}

}  // namespace

Command help_command() {
  return {"help", "list the commands, or describe one", "  help [COMMAND]\n  crash> help bt", run_help};
}
Command quit_command() { return {"q", "leave coroner (also: exit, quit)", "  q\n  crash> q", run_quit}; }

}  // namespace coroner::commands
