#include "analyzer/os/linux/panic_message.hpp"

#include <array>
#include <initializer_list>
#include <string_view>

namespace coroner::linux_kernel {

namespace {

using Pass = std::initializer_list<std::string_view>;

// In order of precedence; see the header.
const std::array<Pass, 6> kPasses = {
    Pass{"general protection fault", "double fault: ", "divide error: ", "stack segment: "},
    Pass{"SysRq : Crash", "SysRq : Trigger a crash", "SysRq : Netdump"},
    Pass{"Oops: ", "Kernel BUG at", "kernel BUG at", "Unable to handle kernel paging request",
         "Unable to handle kernel NULL pointer dereference", "BUG: unable to handle kernel ",
         "BUG: kernel NULL pointer dereference", "BUG: unable to handle page fault"},
    Pass{"Kernel panic: ", "Kernel panic - "},
    Pass{"[Hardware Error]: "},
    Pass{"Bad mode in "},
};

}  // namespace

std::optional<std::string> find_panic_message(const std::vector<LogRecord>& log) {
  for (const Pass& pass : kPasses) {
    for (const LogRecord& record : log) {
      std::string_view text = record.text;
      while (true) {
        size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        for (std::string_view pattern : pass)
          if (line.find(pattern) != std::string_view::npos) return std::string(line);
        if (eol == std::string_view::npos) break;
        text.remove_prefix(eol + 1);
      }
    }
  }
  return std::nullopt;
}

}  // namespace coroner::linux_kernel
