#include "analyzer/frontends/triage/triage_checks.hpp"

namespace coroner::frontends::triage {

namespace {

std::vector<TriageCheck>& checks() {
  static std::vector<TriageCheck> registered;
  return registered;
}

}  // namespace

Expected<void> add_triage_check(TriageCheck check) {
  for (const TriageCheck& c : checks())
    if (c.name == check.name)
      return make_error(Errc::invalid_argument, "triage check {}: plugin {} added one of that name already", check.name,
                        c.plugin);
  checks().push_back(std::move(check));
  return {};
}

void remove_triage_checks(std::string_view plugin) {
  std::erase_if(checks(), [&](const TriageCheck& c) { return c.plugin == plugin; });
}

const std::vector<TriageCheck>& triage_checks() { return checks(); }

}  // namespace coroner::frontends::triage
