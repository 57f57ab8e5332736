// A plugin whose coroner_plugin_init is missing.
#include <coroner/plugin.hpp>

CORONER_PLUGIN_EXPORT const coroner::plugin::PluginInfo* coroner_plugin_info() {
  static const coroner::plugin::PluginInfo info{CORONER_PLUGIN_API_VERSION, "noinit", "1.0", "no init"};
  return &info;
}
