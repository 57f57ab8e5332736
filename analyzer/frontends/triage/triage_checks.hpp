// Checks that plugins add to the triage report (its "checks" section): each
// looks at the program and returns its findings, none when all is well.
#pragma once

#include "capture/format/error.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner {
class Program;
}

namespace coroner::frontends::triage {

struct CheckFinding {
  std::string check;     // the check's name
  std::string severity;  // info, warning, critical
  std::string summary;
  std::vector<std::string> details;
};

struct TriageCheck {
  std::string name;
  std::string plugin;  // the plugin that added it
  std::function<Expected<std::vector<CheckFinding>>(const Program&)> run;
};

// Refused when a check of that name exists already.
Expected<void> add_triage_check(TriageCheck check);
void remove_triage_checks(std::string_view plugin);
const std::vector<TriageCheck>& triage_checks();

}  // namespace coroner::frontends::triage
