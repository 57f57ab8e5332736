// crash's `alias`: built-in aliases (man, ?, sf, sn, hex, dec, for, dmesg,
// lsmod, ...) and the session's own (`alias NAME COMMAND...`), expanded in
// the first word of a command line.
#pragma once

#include "commands/command.hpp"

#include <string_view>
#include <utility>
#include <vector>
#include <string>

namespace coroner::frontends {

class Aliases {
 public:
  Aliases();  // crash's built-in aliases whose commands coroner has

  // The line with its first word expanded (aliases of aliases too, at
  // most a few levels deep, so `alias a a` cannot loop).
  std::string expand(const std::string& line) const;
  // `alias`: lists; `alias NAME`: shows one; `alias NAME COMMAND...`: defines.
  Expected<void> run(const commands::Arguments& args, const commands::CommandContext& context);
  // The names, for completion.
  std::vector<std::string> names() const;

 private:
  struct Alias {
    std::string command;
    bool builtin = false;
  };
  std::vector<std::pair<std::string, Alias>> aliases_;  // in definition order, as crash lists them
  const Alias* find(std::string_view name) const;
};

}  // namespace coroner::frontends
