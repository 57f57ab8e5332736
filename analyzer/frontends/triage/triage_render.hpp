// The triage report's four forms: plain text for a terminal, markdown for
// a ticket, one JSON document (schema: docs/triage-schema.json) for tools,
// and one self-contained, printable HTML page (no scripts, no network).
#pragma once

#include "analyzer/frontends/triage/triage_report.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace coroner::frontends::triage {

enum class ReportFormat { text, markdown, json, html };

nlohmann::json report_json(const TriageReport& report);
std::string render_text(const TriageReport& report);
std::string render_markdown(const TriageReport& report);
std::string render_html(const TriageReport& report);

// The report in `format`, ending with a newline.
std::string render_report(const TriageReport& report, ReportFormat format);

// One line: "oops: BUG: kernel NULL pointer dereference in fx_crash_level3
// (module fx_crash)", what every form opens with.
std::string verdict_line(const TriageReport& report);

}  // namespace coroner::frontends::triage
