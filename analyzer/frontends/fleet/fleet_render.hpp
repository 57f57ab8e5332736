// The fleet report and `fleet show` as text, JSON and one HTML page (no
// network: the table sorts with an inline script, the sparklines are inline
// SVG, each signature links to its example dump's report in the page).
#pragma once

#include "analyzer/frontends/fleet/fleet_store.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace coroner::frontends::fleet {

// "2026-11-22T19:04:10Z"
std::string utc_time(int64_t seconds);

nlohmann::json report_json(const std::vector<SignatureGroup>& groups, int64_t since);
std::string render_report_text(const std::vector<SignatureGroup>& groups, int64_t since);
// `examples`: the triage report (JSON) of each group's example dump, by identity.
std::string render_report_html(const std::vector<SignatureGroup>& groups, int64_t since,
                               const std::map<std::string, std::string>& examples);

nlohmann::json show_json(const SignatureGroup& group, const std::vector<DumpRow>& dumps);
std::string render_show_text(const SignatureGroup& group, const std::vector<DumpRow>& dumps);

}  // namespace coroner::frontends::fleet
