// A plugin built against another API version: the loader must refuse it
// before calling anything else in it.
#include <coroner/plugin.hpp>

CORONER_PLUGIN_EXPORT const coroner::plugin::PluginInfo* coroner_plugin_info() {
  static const coroner::plugin::PluginInfo info{CORONER_PLUGIN_API_VERSION + 41, "wrongversion", "1.0", "built against a future API"};
  return &info;
}

CORONER_PLUGIN_EXPORT bool coroner_plugin_init(coroner::plugin::Registrar*, std::string*) {
  __builtin_trap();  // never called
}
