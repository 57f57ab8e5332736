// The shell's command history: kept in ~/.coroner_history (at most
// kHistorySize lines, oldest dropped), `!!` and `!N` recalled, listed by `h`.
#pragma once

#include "capture/format/error.hpp"

#include <iosfwd>
#include <string>

namespace coroner::frontends {

class History {
 public:
  static constexpr int kHistorySize = 1000;

  History();   // reads the file (no file: an empty history)
  ~History();  // writes it back

  // `!!` (the last line) or `!N` (line N of `h`) at the start of line,
  // replaced, the rest kept (`!! | grep x`); other lines come back as they
  // are. `!command` is not history: the session runs it in /bin/sh.
  Expected<std::string> expand(const std::string& line) const;
  // Adds a line (not a repeat of the last one).
  void add(const std::string& line);
  // crash's `h`: "[N] line" for each line.
  void list(std::ostream& out) const;

 private:
  std::string path_;  // "" when $HOME is unset: nothing is kept
};

}  // namespace coroner::frontends
