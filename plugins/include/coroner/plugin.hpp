// The one header a coroner plugin includes. A plugin is a shared object
// that defines, with CORONER_PLUGIN, two C entry points:
//   coroner_plugin_info()  its name, version and the API version it was built against
//   coroner_plugin_init()  registers its commands and triage checks
// Exceptions never cross into coroner: the wrappers below catch them in the
// plugin and hand back their message, which coroner prints as one line.
#pragma once

#include "coroner/json.hpp"
#include "coroner/kernel.hpp"
#include "coroner/result.hpp"
#include "coroner/version.hpp"

#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace coroner::plugin {

// What a command sees: the kernel, and the output in the format the user
// asked for (--output json: emit() one document; else print() text).
class Context : public Kernel {
 public:
  virtual bool json() const = 0;
  virtual void print(std::string_view text) = 0;
  virtual void emit(const Json& document) = 0;
  virtual std::optional<int64_t> current_pid() const = 0;  // the shell's `set PID` context

 protected:
  ~Context() = default;
};

// A finding of a triage check, shown in `coroner triage`'s "Checks" section.
struct Finding {
  std::string severity;  // "info", "warning" or "critical"
  std::string summary;   // one line
  std::vector<std::string> details;
};

// What crosses the boundary: functions that report failure by a message.
using RawCommand = std::function<bool(Context&, const std::vector<std::string>& args, std::string& error)>;
using RawCheck = std::function<bool(const Kernel&, std::vector<Finding>& findings, std::string& error)>;

struct CommandSpec {
  std::string name;
  std::string summary;  // one line for `help`
  std::string usage;    // "  NAME [OPTIONS]\n    -x   what it does\n  crash> NAME -x" as the built-in commands write it
  std::vector<std::string> options;  // offered by the shell's completion
  RawCommand run;
};

struct CheckSpec {
  std::string name;
  RawCheck run;
};

namespace detail {
// Runs function (void, or bool: false for failure with `error` set);
// false with `error` set when it failed or threw.
template <typename Function>
bool guarded(std::string& error, Function&& function) {
  try {
    if constexpr (std::is_same_v<decltype(function()), bool>) {
      if (function()) return true;
    } else {
      function();
      return true;
    }
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception";
  }
  if (error.empty()) error = "failed";
  return false;
}
}  // namespace detail

class Registrar {
 public:
  // run(context, args): args exclude the command name. Throwing (a
  // Result's value() on a failed read, anything else) fails the command
  // with the exception's message.
  void command(std::string name, std::string summary, std::string usage, std::vector<std::string> options,
               std::function<void(Context&, const std::vector<std::string>&)> run) {
    add_command(CommandSpec{std::move(name), std::move(summary), std::move(usage), std::move(options),
                            [run = std::move(run)](Context& context, const std::vector<std::string>& args,
                                                   std::string& error) {
                              return detail::guarded(error, [&] { run(context, args); });
                            }});
  }
  // check(kernel): the findings of one triage check (none: nothing to report).
  void triage_check(std::string name, std::function<std::vector<Finding>(const Kernel&)> check) {
    add_check(CheckSpec{std::move(name), [check = std::move(check)](const Kernel& kernel,
                                                                     std::vector<Finding>& findings,
                                                                     std::string& error) {
                          return detail::guarded(error, [&] { findings = check(kernel); });
                        }});
  }

  virtual void add_command(CommandSpec spec) = 0;
  virtual void add_check(CheckSpec spec) = 0;

 protected:
  ~Registrar() = default;
};

// Read first by the loader, whatever the version: its first member stays.
struct PluginInfo {
  int api_version;
  const char* name;
  const char* version;
  const char* description;
};

}  // namespace coroner::plugin

#define CORONER_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

// CORONER_PLUGIN("name", "1.0", "what it adds", init) where
// void init(coroner::plugin::Registrar&) registers the commands and checks.
#define CORONER_PLUGIN(NAME, VERSION, DESCRIPTION, INIT)                                              \
  CORONER_PLUGIN_EXPORT const coroner::plugin::PluginInfo* coroner_plugin_info() {                   \
    static const coroner::plugin::PluginInfo info{CORONER_PLUGIN_API_VERSION, NAME, VERSION, DESCRIPTION}; \
    return &info;                                                                                   \
  }                                                                                                 \
  CORONER_PLUGIN_EXPORT bool coroner_plugin_init(coroner::plugin::Registrar* registrar, std::string* error) { \
    return coroner::plugin::detail::guarded(*error, [&] { INIT(*registrar); });                     \
  }
