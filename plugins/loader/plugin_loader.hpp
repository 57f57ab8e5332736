// The plugin loader: dlopen()s a plugin, checks the API version it was
// built against, runs its init, and adds its commands (to the commands'
// registry, so the shell, batch input and `help` see them) and its triage
// checks. Every failure is one line naming the shared object; a failed
// plugin leaves nothing behind.
#pragma once

#include "commands/extend.hpp"

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace coroner::plugins {

class PluginLoader final : public commands::PluginHost {
 public:
  PluginLoader();
  ~PluginLoader() override;
  PluginLoader(const PluginLoader&) = delete;
  PluginLoader& operator=(const PluginLoader&) = delete;

  Expected<commands::PluginSummary> load(const std::string& path) override;
  Expected<commands::PluginSummary> unload(std::string_view name_or_path) override;
  std::vector<commands::PluginSummary> loaded() const override;
  std::vector<std::string> search_directories() const override;

  // Every *.so of the plugin directories, in search order; a plugin whose
  // name is taken by an earlier one is skipped. Failures go to `errors`.
  void load_directories(std::ostream& errors);

 private:
  struct Loaded;
  std::vector<std::unique_ptr<Loaded>> plugins_;
};

// $CORONER_PLUGIN_PATH's directories (':'-separated), then
// ~/.local/lib/coroner/plugins, then the installed plugin directory.
std::vector<std::string> plugin_directories();

}  // namespace coroner::plugins
