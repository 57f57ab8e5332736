// The fleet report as one self-contained HTML page: a table of signatures
// that sorts on a click of its headers (an inline script), a sparkline of
// each signature's daily dumps (inline SVG), and for each signature its
// example dump's triage report further down the page, linked from the row.
#include "analyzer/frontends/fleet/fleet_render.hpp"
#include "analyzer/frontends/markup/markup_escape.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace coroner::frontends::fleet {

namespace {

// At most this many days of history in a sparkline.
constexpr int64_t kSparklineDays = 90;

// Daily dumps from `first_day` to `last_day` as a polyline scaled to the
// busiest day, with the counts in its tooltip.
std::string sparkline(const SignatureGroup& group, int64_t first_day, int64_t last_day) {
  constexpr int width = 180, height = 28;
  int64_t busiest = 1;
  for (int64_t day = first_day; day <= last_day; ++day)
    if (auto it = group.daily.find(day); it != group.daily.end()) busiest = std::max(busiest, it->second);
  const double step = last_day > first_day ? double(width - 4) / double(last_day - first_day) : 0;
  std::string points, tooltip;
  for (int64_t day = first_day; day <= last_day; ++day) {
    auto it = group.daily.find(day);
    const int64_t dumps = it == group.daily.end() ? 0 : it->second;
    points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", 2 + step * double(day - first_day),
                          double(height - 2) - double(height - 4) * double(dumps) / double(busiest));
    if (dumps) tooltip += fmt::format("{}{}: {}", tooltip.empty() ? "" : ", ", utc_time(day * 86400).substr(0, 10), dumps);
  }
  if (first_day == last_day) points += fmt::format(" {},{}", width - 2, points.substr(points.find(',') + 1));
  return fmt::format("<svg class=\"spark\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\">"
                     "<title>{2}</title><polyline fill=\"none\" stroke=\"#b03020\" stroke-width=\"1.5\" "
                     "points=\"{3}\"/></svg>",
                     width, height, markup_escaped(tooltip), points);
}

// The example dump's facts and its whole triage report.
std::string example_section(const SignatureGroup& group, const std::string& report_text) {
  const nlohmann::json report = nlohmann::json::parse(report_text, nullptr, false);
  std::string out = fmt::format("<section class=\"example\" id=\"dump-{}\">\n<h3>{} &mdash; {}</h3>\n", group.example,
                                group.signature, markup_escaped(group.title));
  if (report.is_object()) {
    const nlohmann::json& system = json_member(report, "system");
    const nlohmann::json& verdict = json_member(report, "verdict");
    out += "<table class=\"facts\">\n";
    auto fact = [&](std::string_view name, const std::string& value) {
      out += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", name, markup_escaped(value));
    };
    fact("dump", group.example);
    fact("host", json_text(system, "nodename"));
    if (json_member(system, "crash_time").is_number_integer())
      fact("crash time", utc_time(json_integer(system, "crash_time")));
    fact("kernel", json_text(system, "release") + " " + json_text(system, "version"));
    fact("build-id", json_text(system, "build_id"));
    fact("dump format", json_text(system, "dump_format"));
    fact("panic line", json_text(verdict, "panic_line"));
    out += "</table>\n";
    const nlohmann::json& task = json_member(verdict, "crashing_task");
    if (const nlohmann::json& stack = json_member(task, "stack"); stack.is_array()) {
      out += fmt::format("<p>crashing task: pid {} ({})</p>\n<pre class=\"stack\">", json_integer(task, "pid"),
                         markup_escaped(json_text(task, "comm")));
      for (const nlohmann::json& frame : stack) {
        const std::string module = json_text(frame, "module");
        out += markup_escaped(fmt::format("{}{}{}  {}:{}\n", json_flag(frame, "inlined") ? "(inlined) " : "",
                                   json_text(frame, "function"), module.empty() ? "" : " [" + module + "]",
                                   json_text(frame, "file"), json_integer(frame, "line")));
      }
      out += "</pre>\n";
    }
  }
  out += fmt::format("<details><summary>the triage report (JSON)</summary><pre>{}</pre></details>\n",
                     markup_escaped(report.is_object() ? report.dump(2) : report_text));
  out += "<p><a href=\"#signatures\">back to the signatures</a></p>\n</section>\n";
  return out;
}

constexpr std::string_view kStyle = R"(body{font-family:sans-serif;margin:1.5em;color:#222}
table.signatures{border-collapse:collapse;width:100%}
table.signatures th,table.signatures td{border-bottom:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:middle}
table.signatures th{background:#eee;cursor:pointer;user-select:none}
table.signatures th.sorted-up::after{content:" \25B2"}
table.signatures th.sorted-down::after{content:" \25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.time{white-space:nowrap}
code{font-size:95%}
section.example{border-top:2px solid #888;margin-top:2em}
table.facts th{text-align:left;padding-right:1em}
pre{background:#f6f6f6;padding:6px;overflow-x:auto}
)";

// Sorts the table by a header's column: numbers (data-value) or text.
constexpr std::string_view kScript = R"(document.querySelectorAll("table.signatures th").forEach(function (th, column) {
  th.addEventListener("click", function () {
    var body = th.closest("table").tBodies[0];
    var up = !th.classList.contains("sorted-up");
    th.closest("tr").querySelectorAll("th").forEach(function (h) { h.classList.remove("sorted-up", "sorted-down"); });
    th.classList.add(up ? "sorted-up" : "sorted-down");
    var key = function (row) {
      var cell = row.cells[column];
      return cell.dataset.value !== undefined ? Number(cell.dataset.value) : cell.textContent.trim().toLowerCase();
    };
    Array.from(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b);
      return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
    }).forEach(function (row) { body.appendChild(row); });
  });
});
)";

}  // namespace

std::string render_report_html(const std::vector<SignatureGroup>& groups, int64_t since,
                               const std::map<std::string, std::string>& examples) {
  int64_t dumps = 0, first_day = INT64_MAX, last_day = 0;
  for (const SignatureGroup& g : groups) {
    dumps += g.dumps;
    first_day = std::min(first_day, g.first_seen / 86400);
    last_day = std::max(last_day, g.last_seen / 86400);
  }
  first_day = std::max(first_day, last_day - (kSparklineDays - 1));
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<title>coroner fleet report</title>\n<style>\n" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  out += fmt::format("<h1>coroner fleet report</h1>\n<p id=\"summary\">{} dumps, {} signatures{}</p>\n", dumps,
                     groups.size(), since > 0 ? " since " + utc_time(since) : "");
  if (!groups.empty())
    out += fmt::format("<p>Daily dumps from {} to {}. Click a column header to sort.</p>\n",
                       utc_time(first_day * 86400).substr(0, 10), utc_time(last_day * 86400).substr(0, 10));
  out += "<table class=\"signatures\" id=\"signatures\">\n<thead><tr><th>Signature</th><th>Title</th><th>Kind</th>"
         "<th>Module</th><th>Dumps</th><th>Hosts</th><th>First seen</th><th>Last seen</th><th>Kernels</th>"
         "<th>Daily</th></tr></thead>\n<tbody>\n";
  for (const SignatureGroup& g : groups) {
    std::string kernels;
    for (const auto& [release, count] : g.releases) kernels += (kernels.empty() ? "" : ", ") + release;
    out += fmt::format(
        "<tr><td><a href=\"#dump-{}\"><code>{}</code></a></td><td>{}</td><td>{}</td><td>{}</td>"
        "<td class=\"num\" data-value=\"{}\">{}</td><td class=\"num\" data-value=\"{}\">{}</td>"
        "<td class=\"time\" data-value=\"{}\">{}</td><td class=\"time\" data-value=\"{}\">{}</td><td>{}</td>"
        "<td data-value=\"{}\">{}</td></tr>\n",
        g.example, g.signature, markup_escaped(g.title), markup_escaped(g.kind), markup_escaped(g.module), g.dumps, g.dumps, g.hosts,
        g.hosts, g.first_seen, utc_time(g.first_seen), g.last_seen, utc_time(g.last_seen), markup_escaped(kernels), g.dumps,
        sparkline(g, first_day, last_day));
  }
  out += "</tbody>\n</table>\n";
  for (const SignatureGroup& g : groups)
    if (auto it = examples.find(g.example); it != examples.end()) out += example_section(g, it->second);
  out += "<script>\n" + std::string(kScript) + "</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace coroner::frontends::fleet
