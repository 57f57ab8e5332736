#include "analyzer/frontends/shell/colour.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace coroner::frontends {

bool colour_allowed(int fd) {
  const char* no_colour = std::getenv("NO_COLOR");
  if (no_colour && *no_colour) return false;
  const char* term = std::getenv("TERM");
  if (!term || !*term || std::strcmp(term, "dumb") == 0) return false;
  return isatty(fd) == 1;
}

std::string prompt_text(bool colour) { return colour ? "\001\033[1m\002crash>\001\033[0m\002 " : "crash> "; }

std::string error_text(std::string_view message, bool colour) {
  return colour ? "\033[31m" + std::string(message) + "\033[0m" : std::string(message);
}

}  // namespace coroner::frontends
