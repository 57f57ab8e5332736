// What `extend` (crash's command for shared-object extensions) drives: the
// plugin loader, which sits above the commands and installs itself here at
// start. Without one, `extend` lists nothing and refuses to load.
#pragma once

#include "commands/command.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace coroner::commands {

struct PluginSummary {
  std::string name, version, description;
  std::string path;                   // the shared object
  std::vector<std::string> commands;  // the commands it added
  std::vector<std::string> checks;    // its triage checks
};

class PluginHost {
 public:
  virtual ~PluginHost() = default;
  // PATH, or a file name looked for in the plugin directories.
  virtual Expected<PluginSummary> load(const std::string& path) = 0;
  // By plugin name or shared-object path.
  virtual Expected<PluginSummary> unload(std::string_view name_or_path) = 0;
  virtual std::vector<PluginSummary> loaded() const = 0;
  virtual std::vector<std::string> search_directories() const = 0;
};

void set_plugin_host(PluginHost* host);  // nullptr: none

// crash's extend listing: NAME VERSION SHARED OBJECT COMMANDS, or as JSON.
std::string plugins_table(const std::vector<PluginSummary>& plugins);
nlohmann::json plugins_json(const std::vector<PluginSummary>& plugins);

}  // namespace coroner::commands
