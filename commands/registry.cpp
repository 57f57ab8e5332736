#include "commands/builtin.hpp"

#include <algorithm>
#include <exception>
#include <map>
#include <new>
#include <ostream>

namespace coroner::commands {

namespace {

std::vector<Command>& commands() {
  static std::vector<Command> commands = {
      sys_command(), rd_command(), vtop_command(), sym_command(),
      set_command(), help_command(), quit_command(),
      p_command(), px_command(), pd_command(), struct_command(), union_command(), whatis_command(), ptype_command(),
      list_command(), tree_command(), search_command(), eval_command(), ascii_command(),
      mod_command(), dis_command(),
      bt_command(), foreach_command(), ps_command(), task_command(),
      log_command(),
      vm_command(), files_command(), sig_command(),
      runq_command(), mount_command(), irq_command(), swap_command(), timer_command(), waitq_command(),
      ipcs_command(),
      net_command(), ptov_command(), ptob_command(), btop_command(), mach_command(),
      dev_command(), pte_command(),
      kmem_command(), extend_command(),
  };
  return commands;
}

// What runs on a dump opened without a kernel file (a FreeBSD minidump):
// memory, page tables, arithmetic, and sys and log from the dump itself.
bool works_without_kernel_file(std::string_view name) {
  static const std::vector<std::string_view> names = {"sys",  "log",  "rd",   "vtop", "search", "pte",  "ptob",
                                                      "btop", "eval", "ascii", "help", "q",      "extend"};
  return std::find(names.begin(), names.end(), name) != names.end();
}

// What reads Linux's own structures (tasks, slabs, mounts, modules...):
// another OS model answers these in one line, not with a missing Linux type.
bool reads_linux_structures(std::string_view name) {
  static const std::vector<std::string_view> names = {"foreach", "task", "set",  "runq",  "kmem",  "vm",
                                                      "files",   "sig",  "mount", "irq",  "swap",  "timer",
                                                      "waitq",   "ipcs", "net",  "dev",   "mod",   "mach", "ptov"};
  return std::find(names.begin(), names.end(), name) != names.end();
}

struct PluginCommand {
  std::string plugin;
  std::vector<std::string> completions;
};

// The commands plugins added, by name.
std::map<std::string, PluginCommand, std::less<>>& plugin_commands() {
  static std::map<std::string, PluginCommand, std::less<>> added;
  return added;
}

}  // namespace

const std::vector<Command>& all_commands() { return commands(); }

Expected<void> add_command(Command command, std::string plugin, std::vector<std::string> completions) {
  if (find_command(command.name))
    return make_error(Errc::invalid_argument, "{}: a command of that name exists already", command.name);
  plugin_commands()[command.name] = {std::move(plugin), std::move(completions)};
  commands().push_back(std::move(command));
  return {};
}

void remove_commands(std::string_view plugin) {
  std::erase_if(commands(), [&](const Command& c) {
    auto added = plugin_commands().find(c.name);
    return added != plugin_commands().end() && added->second.plugin == plugin;
  });
  std::erase_if(plugin_commands(), [&](const auto& entry) { return entry.second.plugin == plugin; });
}

std::vector<std::string> command_completions(std::string_view name) {
  auto added = plugin_commands().find(name);
  return added == plugin_commands().end() ? std::vector<std::string>{} : added->second.completions;
}

const Command* find_command(std::string_view name) {
  if (name == "exit" || name == "quit") name = "q";
  for (const Command& c : all_commands())
    if (c.name == name) return &c;
  return nullptr;
}

// Strings read from a dump (comm, char arrays) need not be UTF-8: invalid
// bytes become U+FFFD, so the document is always valid JSON (README).
// Every object document says where the symbols and types it was computed
// from came from (README "Without a vmlinux"): "debuginfo": "dwarf", ...
void CommandContext::emit(const nlohmann::json& document) const {
  auto print = [this](const nlohmann::json& shown) {
    out << shown.dump(json_lines ? -1 : 2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  };
  if (!document.is_object() || document.contains("debuginfo")) return print(document);
  nlohmann::json labelled = document;
  labelled["debuginfo"] = program.debuginfo_label();
  print(labelled);
}

namespace {

// `--output json|text` (or `--output=...`) among a command's words: that
// command's format, taken out of its arguments. No crash command has a long
// option of that name.
Expected<std::optional<OutputFormat>> take_output_option(Arguments& args) {
  std::optional<OutputFormat> format;
  for (size_t i = 0; i < args.size();) {
    std::string value;
    if (args[i] == "--output") {
      if (i + 1 == args.size()) return make_error(Errc::invalid_argument, "--output needs json or text");
      value = args[i + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i), args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
    } else if (args[i].starts_with("--output=")) {
      value = args[i].substr(9);
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
      continue;
    }
    if (value == "json") format = OutputFormat::json;
    else if (value == "text") format = OutputFormat::text;
    else return make_error(Errc::invalid_argument, "--output {}: expected json or text", value);
  }
  return format;
}

// The command, with the checks and the error boundary every command gets.
Expected<void> run_command(CommandContext& context, const Command& command, const Arguments& args) {
  const std::string_view os = context.program.os().display_name();
  if (context.program.debuginfo_source() == DebugInfoSource::none && !works_without_kernel_file(command.name))
    return make_error(Errc::unsupported, "{}: not available for a {} dump without a kernel file", command.name, os);
  if (context.program.os().name() != "linux" && reads_linux_structures(command.name))
    return make_error(Errc::unsupported, "{}: reads Linux kernel structures; not available for a {} dump",
                      command.name, os);
  // The error boundary: whatever a command throws (a library's exception,
  // an allocation refused) becomes its one-line error, and the shell or
  // batch goes on with the next command.
  try {
    auto result = command.run(context, args);
    if (!result) return result.error().context(command.name);
  } catch (const std::bad_alloc&) {
    return make_error(Errc::corrupt, "{}: out of memory (a size read from the dump is implausible?)", command.name);
  } catch (const std::exception& e) {
    return make_error(Errc::corrupt, "{}: internal error: {}", command.name, e.what());
  } catch (...) {
    return make_error(Errc::corrupt, "{}: internal error (unknown exception)", command.name);
  }
  return {};
}

}  // namespace

Expected<void> run_command_line(CommandContext& context, std::string_view line) {
  CORONER_TRY(words, split_command_line(line));
  if (words.empty() || words.front().starts_with("#")) return {};
  // gdb's "p/x EXPR": the command "p" with the word "/x" before its arguments.
  if (const size_t slash = words.front().find('/'); slash != std::string::npos && slash > 0) {
    words.insert(words.begin() + 1, words.front().substr(slash));
    words.front().resize(slash);
  }
  // A copy: `extend -u` may remove commands while it runs.
  const Command* found = find_command(words.front());
  if (!found)
    return make_error(Errc::invalid_argument, "{}: command not found (\"help\" lists the commands)", words.front());
  const Command command = *found;
  Arguments args(words.begin() + 1, words.end());
  auto format = take_output_option(args);
  if (!format) return format.error().context(command.name);
  if (!*format) return run_command(context, command, args);
  const OutputFormat session_format = context.format;
  context.format = **format;
  auto result = run_command(context, command, args);
  context.format = session_format;
  return result;
}

}  // namespace coroner::commands
