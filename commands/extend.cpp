// extend: loads, unloads and lists plugins, as crash's
// extend [-u] [-s] [SHARED-OBJECT ...].
#include "commands/extend.hpp"

#include "commands/builtin.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

PluginHost* host = nullptr;

nlohmann::json summary_json(const PluginSummary& p) {
  return {{"name", p.name},         {"version", p.version},   {"description", p.description},
          {"path", p.path},         {"commands", p.commands}, {"checks", p.checks}};
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

Expected<void> run_extend(CommandContext& ctx, const Arguments& args) {
  if (args.empty()) {
    const std::vector<PluginSummary> plugins = host ? host->loaded() : std::vector<PluginSummary>{};
    if (ctx.json()) ctx.emit(plugins_json(plugins));
    else ctx.out << plugins_table(plugins);
    return {};
  }
  if (args[0] == "-s") {
    if (args.size() != 1) return make_error(Errc::invalid_argument, "usage: extend -s");
    const std::vector<std::string> dirs = host ? host->search_directories() : std::vector<std::string>{};
    if (ctx.json()) ctx.emit({{"search_directories", dirs}});
    else
      for (const std::string& dir : dirs) ctx.out << dir << '\n';
    return {};
  }
  if (!host) return make_error(Errc::unsupported, "this program loads no plugins");
  const bool unload = args[0] == "-u";
  if (unload && args.size() == 1) return make_error(Errc::invalid_argument, "usage: extend -u NAME|SHARED-OBJECT ...");
  nlohmann::json done = nlohmann::json::array();
  for (size_t i = unload ? 1 : 0; i < args.size(); ++i) {
    if (!unload && args[i].starts_with("-"))
      return make_error(Errc::invalid_argument, "unknown option {} (usage: extend [-u] [-s] [SHARED-OBJECT ...])", args[i]);
    CORONER_TRY(plugin, unload ? host->unload(args[i]) : host->load(args[i]));
    if (ctx.json()) done.push_back(summary_json(plugin));
    else
      ctx.out << plugin.path << ": shared object " << (unload ? "unloaded" : "loaded") << " (" << plugin.name << ' '
              << plugin.version << (plugin.commands.empty() ? "" : ": " + joined(plugin.commands)) << ")\n";
  }
  if (ctx.json()) ctx.emit({{unload ? "unloaded" : "loaded", done}});
  return {};
}

}  // namespace

void set_plugin_host(PluginHost* plugin_host) { host = plugin_host; }

nlohmann::json plugins_json(const std::vector<PluginSummary>& plugins) {
  nlohmann::json list = nlohmann::json::array();
  for (const PluginSummary& p : plugins) list.push_back(summary_json(p));
  return {{"plugins", list}};
}

std::string plugins_table(const std::vector<PluginSummary>& plugins) {
  if (plugins.empty()) return "no plugins loaded\n";
  size_t name_width = 4, path_width = 13;
  for (const PluginSummary& p : plugins) {
    name_width = std::max(name_width, p.name.size());
    path_width = std::max(path_width, p.path.size());
  }
  std::string out = fmt::format("{:<{}}  {:<8}  {:<{}}  COMMANDS\n", "NAME", name_width, "VERSION", "SHARED OBJECT",
                                path_width);
  for (const PluginSummary& p : plugins)
    out += fmt::format("{:<{}}  {:<8}  {:<{}}  {}\n", p.name, name_width, p.version, p.path, path_width,
                       joined(p.commands));
  return out;
}

Command extend_command() {
  return {"extend", "load, unload or list plugins (shared objects adding commands and triage checks)",
          "  extend [-u] [-s] [SHARED-OBJECT ...]\n"
          "    (none)          list the loaded plugins: NAME VERSION SHARED OBJECT COMMANDS\n"
          "    SHARED-OBJECT   load a plugin: a path, or a file name looked for in the plugin directories\n"
          "    -u NAME         unload a plugin, by its name or its shared object, and remove its commands\n"
          "    -s              show the plugin directories, in search order\n"
          "  Plugins in $CORONER_PLUGIN_PATH, ~/.local/lib/coroner/plugins and the installed\n"
          "  plugin directory, and those given with --plugin, are loaded at start (docs/plugins.md).\n"
          "  crash> extend",
          run_extend};
}

}  // namespace coroner::commands
