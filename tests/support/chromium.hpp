// Debian's chromium, headless, on a local page: what the HTML tests (the
// triage report, the fleet report) open their pages with.
#pragma once

#include "tests/support/fixtures.hpp"

#include <fmt/format.h>

namespace coroner::test {

// chromium's log lines of a page's console ("INFO:CONSOLE:1] "boom", source: ...").
inline std::vector<std::string> console_messages(const std::string& chromium_log) {
  std::vector<std::string> messages;
  for (const std::string& line : lines_of(chromium_log))
    if (line.find(":CONSOLE") != std::string::npos) messages.push_back(line);
  return messages;
}

// Runs headless chromium on a local page: the screenshot it takes, its log.
inline std::string open_in_chromium(const fs::path& page, const fs::path& screenshot,
                                    const std::string& window_size = "1200,2400") {
  fs::remove(screenshot);
  // --no-sandbox: the tests may run as root; the page is our own file.
  return run_command(fmt::format("timeout 120 chromium --headless --no-sandbox --disable-gpu --enable-logging=stderr "
                                 "--v=0 --window-size={} --screenshot={} file://{} 2>&1",
                                 window_size, screenshot.string(), fs::absolute(page).string()));
}

// The page's DOM after its scripts ran.
inline std::string dom_of(const fs::path& page) {
  return run_command(fmt::format("timeout 120 chromium --headless --no-sandbox --disable-gpu --dump-dom file://{} "
                                 "2>/dev/null",
                                 fs::absolute(page).string()));
}

}  // namespace coroner::test
