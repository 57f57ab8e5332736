// A shared object that is no coroner plugin (no coroner_plugin_info).
extern "C" __attribute__((visibility("default"))) int unrelated_function() { return 42; }
