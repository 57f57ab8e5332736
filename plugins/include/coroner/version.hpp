// The plugin API's version. A plugin is built against one version and the
// loader refuses a plugin built against another: every change to a type or
// interface a plugin sees (a member, a virtual function, their order)
// increments it.
#pragma once

#define CORONER_PLUGIN_API_VERSION 1
