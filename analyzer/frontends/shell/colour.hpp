// Colour on a terminal only, never when NO_COLOR is set (no-color.org) or
// TERM is dumb: a bold prompt and red error lines.
#pragma once

#include <string>
#include <string_view>

namespace coroner::frontends {

// Whether text written to fd may carry colour.
bool colour_allowed(int fd);

// The prompt, bold when colour is on; readline's \001 \002 mark the escape
// sequences as taking no room on the line.
std::string prompt_text(bool colour);
// An error line, red when colour is on.
std::string error_text(std::string_view message, bool colour);

}  // namespace coroner::frontends
