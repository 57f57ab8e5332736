// plugin::Object over coroner::Object, and the lookup of a type by name in
// vmlinux's or a module's debug info.
#pragma once

#include "analyzer/object.hpp"
#include "coroner/kernel.hpp"

#include <string_view>

namespace coroner::plugins {

plugin::Object make_object(Object object);

// The error as one line for the plugin.
plugin::Error plugin_error(const coroner::Error& error);

struct FoundType {
  symbols::DebugInfo* debug_info;
  symbols::QualifiedType type;
};
// "struct fx_item": vmlinux's debug info first, then each module's.
Expected<FoundType> find_type_anywhere(const Program& program, std::string_view name);

}  // namespace coroner::plugins
