#include "plugins/loader/plugin_loader.hpp"

#include "analyzer/frontends/triage/triage_checks.hpp"
#include "plugins/adapter/kernel_adapter.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <ostream>

namespace coroner::plugins {

namespace fs = std::filesystem;

namespace {

using InfoFunction = const plugin::PluginInfo* (*)();
using InitFunction = bool (*)(plugin::Registrar*, std::string*);

// Collects what init registers; nothing reaches the registries before init succeeded.
class Collector final : public plugin::Registrar {
 public:
  void add_command(plugin::CommandSpec spec) override { commands.push_back(std::move(spec)); }
  void add_check(plugin::CheckSpec spec) override { checks.push_back(std::move(spec)); }
  std::vector<plugin::CommandSpec> commands;
  std::vector<plugin::CheckSpec> checks;
};

struct Library {
  void* handle = nullptr;
  explicit Library(void* h) : handle(h) {}
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  ~Library() {
    if (handle) ::dlclose(handle);
  }
};

std::string dl_error() {
  const char* why = ::dlerror();
  return why ? why : "unknown error";
}

// Calls into a plugin go through plugin::detail::guarded: the plugin's own
// wrappers (built from its headers) catch what it throws, this is the last
// guard should something get through.

// A plugin's command: the adapter in front of the plugin's function.
commands::Command host_command(plugin::CommandSpec spec) {
  auto run = std::make_shared<plugin::RawCommand>(std::move(spec.run));
  const std::string name = spec.name;
  return {spec.name, spec.summary, spec.usage,
          [run, name](commands::CommandContext& ctx, const commands::Arguments& args) -> Expected<void> {
            KernelAdapter adapter(ctx);
            std::string error;
            if (plugin::detail::guarded(error, [&] { return (*run)(adapter, args, error); })) return {};
            return make_error(Errc::corrupt, "{}", error);
          }};
}

frontends::triage::TriageCheck host_check(const std::string& plugin_name, plugin::CheckSpec spec) {
  auto run = std::make_shared<plugin::RawCheck>(std::move(spec.run));
  const std::string name = spec.name;
  return {spec.name, plugin_name, [run, name](const Program& program) -> Expected<std::vector<frontends::triage::CheckFinding>> {
            // The checks only read; the context exists for the adapter's memory readers.
            std::ostream nowhere(nullptr);
            commands::CommandContext ctx{const_cast<Program&>(program), commands::OutputFormat::text, nowhere, {}, {}};
            KernelAdapter adapter(ctx);
            std::vector<plugin::Finding> findings;
            std::string error;
            if (!plugin::detail::guarded(error, [&] { return (*run)(adapter, findings, error); }))
              return make_error(Errc::corrupt, "{}", error);
            std::vector<frontends::triage::CheckFinding> out;
            for (plugin::Finding& f : findings)
              out.push_back({name, std::move(f.severity), std::move(f.summary), std::move(f.details)});
            return out;
          }};
}

}  // namespace

struct PluginLoader::Loaded {
  commands::PluginSummary summary;
  std::unique_ptr<Library> library;

  // Before the library goes: nothing of its code may stay registered.
  void unregister() const {
    commands::remove_commands(summary.name);
    frontends::triage::remove_triage_checks(summary.name);
  }
};

PluginLoader::PluginLoader() = default;

PluginLoader::~PluginLoader() {
  for (const auto& p : plugins_) p->unregister();
}

std::vector<std::string> plugin_directories() {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("CORONER_PLUGIN_PATH"); path && *path) {
    std::string_view rest = path;
    while (!rest.empty()) {
      const size_t colon = rest.find(':');
      if (colon) dirs.emplace_back(rest.substr(0, colon));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  if (const char* home = std::getenv("HOME"); home && *home) dirs.push_back(std::string(home) + "/.local/lib/coroner/plugins");
  // The installed directory: beside this executable (PREFIX/bin/coroner:
  // PREFIX/lib/coroner/plugins, as a package may choose its prefix), and the
  // one of the prefix it was built for.
  std::error_code ignored;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ignored);
  for (const std::string& dir : {exe.is_absolute() ? (exe.parent_path().parent_path() / "lib/coroner/plugins").string() : "",
                                 std::string(CORONER_PLUGIN_DIR)})
    if (!dir.empty() && std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
  return dirs;
}

std::vector<std::string> PluginLoader::search_directories() const { return plugin_directories(); }

Expected<commands::PluginSummary> PluginLoader::load(const std::string& given) {
  std::string path = given;
  std::error_code ignored;
  if (given.find('/') == std::string::npos) {  // a file name: looked for in the plugin directories
    for (const std::string& dir : plugin_directories())
      for (const std::string& name : {given, given + ".so"})
        if (path == given && fs::is_regular_file(fs::path(dir) / name, ignored)) path = (fs::path(dir) / name).string();
    if (path == given && !fs::exists(given, ignored))
      return make_error(Errc::not_found, "{}: no such plugin here or in the plugin directories (extend -s)", given);
    if (path == given) path = "./" + given;
  }
  if (!fs::exists(path, ignored)) return make_error(Errc::not_found, "{}: no such file", path);
  for (const auto& p : plugins_)
    if (fs::equivalent(p->summary.path, path, ignored))
      return make_error(Errc::invalid_argument, "{}: shared object already loaded (plugin {})", path, p->summary.name);

  ::dlerror();
  auto library = std::make_unique<Library>(::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!library->handle) return make_error(Errc::invalid_argument, "{}: cannot load: {}", path, dl_error());
  auto info_function = reinterpret_cast<InfoFunction>(::dlsym(library->handle, "coroner_plugin_info"));
  if (!info_function)
    return make_error(Errc::invalid_argument, "{}: not a coroner plugin (no coroner_plugin_info; see docs/plugins.md)", path);
  const plugin::PluginInfo* info = info_function();
  if (!info) return make_error(Errc::invalid_argument, "{}: coroner_plugin_info returned nothing", path);
  if (info->api_version != CORONER_PLUGIN_API_VERSION)
    return make_error(Errc::unsupported,
                      "{}: built against plugin API version {}, this coroner has version {}: rebuild it against "
                      "this coroner's headers",
                      path, info->api_version, CORONER_PLUGIN_API_VERSION);
  const std::string name = info->name ? info->name : "";
  if (name.empty()) return make_error(Errc::invalid_argument, "{}: the plugin has no name", path);
  for (const auto& p : plugins_)
    if (p->summary.name == name)
      return make_error(Errc::invalid_argument, "{}: a plugin named {} is loaded already (from {})", path, name,
                        p->summary.path);
  auto init = reinterpret_cast<InitFunction>(::dlsym(library->handle, "coroner_plugin_init"));
  if (!init) return make_error(Errc::invalid_argument, "{}: plugin {} has no coroner_plugin_init", path, name);

  auto loaded = std::make_unique<Loaded>();
  loaded->summary = {name, info->version ? info->version : "", info->description ? info->description : "", path, {}, {}};
  {
    Collector collector;
    std::string error;
    if (!plugin::detail::guarded(error, [&] { return init(&collector, &error); }))
      return make_error(Errc::corrupt, "{}: plugin {}: init failed: {}", path, name, error);
    for (plugin::CommandSpec& spec : collector.commands) {
      const std::string command = spec.name;
      std::vector<std::string> completions = spec.options;
      if (auto added = commands::add_command(host_command(std::move(spec)), name, std::move(completions)); !added) {
        loaded->unregister();
        return make_error(Errc::invalid_argument, "{}: plugin {}: {}", path, name, added.error().message());
      }
      loaded->summary.commands.push_back(command);
    }
    for (plugin::CheckSpec& spec : collector.checks) {
      const std::string check = spec.name;
      if (auto added = frontends::triage::add_triage_check(host_check(name, std::move(spec))); !added) {
        loaded->unregister();
        return make_error(Errc::invalid_argument, "{}: plugin {}: {}", path, name, added.error().message());
      }
      loaded->summary.checks.push_back(check);
    }
  }
  loaded->library = std::move(library);
  plugins_.push_back(std::move(loaded));
  return plugins_.back()->summary;
}

Expected<commands::PluginSummary> PluginLoader::unload(std::string_view name_or_path) {
  std::error_code ignored;
  auto it = std::find_if(plugins_.begin(), plugins_.end(), [&](const auto& p) {
    return p->summary.name == name_or_path || p->summary.path == name_or_path ||
           fs::equivalent(p->summary.path, name_or_path, ignored);
  });
  if (it == plugins_.end()) return make_error(Errc::not_found, "{}: no such plugin loaded", name_or_path);
  commands::PluginSummary summary = (*it)->summary;
  (*it)->unregister();
  plugins_.erase(it);
  return summary;
}

std::vector<commands::PluginSummary> PluginLoader::loaded() const {
  std::vector<commands::PluginSummary> out;
  for (const auto& p : plugins_) out.push_back(p->summary);
  return out;
}

void PluginLoader::load_directories(std::ostream& errors) {
  std::error_code ignored;
  for (const std::string& dir : plugin_directories()) {
    std::vector<fs::path> files;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir, ignored))
      if (entry.path().extension() == ".so") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files)
      if (auto loaded = load(file.string()); !loaded) errors << "coroner: plugin: " << loaded.error().message() << '\n';
  }
}

}  // namespace coroner::plugins
