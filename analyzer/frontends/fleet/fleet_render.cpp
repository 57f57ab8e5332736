#include "analyzer/frontends/fleet/fleet_render.hpp"

#include <fmt/format.h>

#include <ctime>

namespace coroner::frontends::fleet {

namespace {

// "fx_crash_level3 [fx_crash] < (inlined) pde_write < proc_reg_write"
std::string frames_line(const std::string& frames_json) {
  const nlohmann::json frames = nlohmann::json::parse(frames_json, nullptr, false);
  if (!frames.is_array()) return "";
  std::string line;
  for (const nlohmann::json& frame : frames) {
    if (!line.empty()) line += " < ";
    if (json_flag(frame, "inlined")) line += "(inlined) ";
    line += json_text(frame, "function");
    if (const std::string module = json_text(frame, "module"); !module.empty()) line += " [" + module + "]";
  }
  return line;
}

std::string releases_line(const SignatureGroup& group) {
  std::string line;
  for (const auto& [release, dumps] : group.releases)
    line += fmt::format("{}{} ({})", line.empty() ? "" : ", ", release.empty() ? "?" : release, dumps);
  return line;
}

std::string since_text(int64_t since) { return since > 0 ? " since " + utc_time(since) : ""; }

nlohmann::json group_json(const SignatureGroup& group) {
  nlohmann::json releases = nlohmann::json::array(), daily = nlohmann::json::array();
  for (const auto& [release, dumps] : group.releases) releases.push_back({{"release", release}, {"dumps", dumps}});
  for (const auto& [day, dumps] : group.daily) daily.push_back({{"day", utc_time(day * 86400).substr(0, 10)}, {"dumps", dumps}});
  nlohmann::json frames = nlohmann::json::parse(group.frames, nullptr, false);
  return {{"signature", group.signature},
          {"title", group.title},
          {"kind", group.kind},
          {"module", group.module},
          {"dumps", group.dumps},
          {"hosts", group.hosts},
          {"first_seen", utc_time(group.first_seen)},
          {"last_seen", utc_time(group.last_seen)},
          {"releases", releases},
          {"frames", frames.is_array() ? frames : nlohmann::json::array()},
          {"daily", daily},
          {"example", {{"identity", group.example}, {"host", group.example_host},
                       {"command", "coroner fleet show " + group.example}}}};
}

}  // namespace

std::string utc_time(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

nlohmann::json report_json(const std::vector<SignatureGroup>& groups, int64_t since) {
  int64_t dumps = 0;
  nlohmann::json signatures = nlohmann::json::array();
  for (const SignatureGroup& group : groups) {
    dumps += group.dumps;
    signatures.push_back(group_json(group));
  }
  return {{"format", "coroner-fleet-report/1"},
          {"since", since > 0 ? nlohmann::json(utc_time(since)) : nlohmann::json()},
          {"dumps", dumps},
          {"signatures", signatures}};
}

std::string render_report_text(const std::vector<SignatureGroup>& groups, int64_t since) {
  int64_t dumps = 0;
  for (const SignatureGroup& group : groups) dumps += group.dumps;
  std::string out = fmt::format("{} dumps, {} signatures{}\n\n", dumps, groups.size(), since_text(since));
  if (groups.empty()) return out;
  out += fmt::format("{:<16}  {:>6}  {:>5}  {:<20}  {:<20}  {:<11}  {:<12}  {}\n", "SIGNATURE", "DUMPS", "HOSTS",
                     "FIRST SEEN", "LAST SEEN", "KIND", "MODULE", "TITLE");
  for (const SignatureGroup& g : groups)
    out += fmt::format("{:<16}  {:>6}  {:>5}  {:<20}  {:<20}  {:<11}  {:<12}  {}\n", g.signature, g.dumps, g.hosts,
                       utc_time(g.first_seen), utc_time(g.last_seen), g.kind, g.module.empty() ? "-" : g.module,
                       g.title);
  for (const SignatureGroup& g : groups) {
    out += fmt::format("\n{}  {}\n", g.signature, g.title);
    out += fmt::format("  kernels: {}\n", releases_line(g));
    out += fmt::format("  frames:  {}\n", frames_line(g.frames));
    out += fmt::format("  example: coroner fleet show {}  ({})\n", g.example, g.example_host);
  }
  return out;
}

nlohmann::json show_json(const SignatureGroup& group, const std::vector<DumpRow>& dumps) {
  nlohmann::json out = group_json(group);
  out["format"] = "coroner-fleet-signature/1";
  out["dump_list"] = nlohmann::json::array();
  for (const DumpRow& d : dumps)
    out["dump_list"].push_back({{"identity", d.identity}, {"host", d.host}, {"crash_time", utc_time(d.crash_time)},
                                {"release", d.release}, {"build_id", d.build_id}, {"machine", d.machine}});
  return out;
}

std::string render_show_text(const SignatureGroup& g, const std::vector<DumpRow>& dumps) {
  std::string out = fmt::format("signature {}: {}\n", g.signature, g.title);
  out += fmt::format("  kind {}, module {}\n", g.kind, g.module.empty() ? "-" : g.module);
  out += fmt::format("  {} dumps on {} hosts, first seen {}, last seen {}\n", g.dumps, g.hosts, utc_time(g.first_seen),
                     utc_time(g.last_seen));
  out += fmt::format("  kernels: {}\n", releases_line(g));
  out += fmt::format("  frames:  {}\n\n", frames_line(g.frames));
  out += fmt::format("{:<32}  {:<20}  {:<20}  {:<16}  {:<7}  {}\n", "DUMP", "CRASH TIME", "HOST", "RELEASE", "MACHINE",
                     "BUILD-ID");
  for (const DumpRow& d : dumps)
    out += fmt::format("{:<32}  {:<20}  {:<20}  {:<16}  {:<7}  {}\n", d.identity, utc_time(d.crash_time),
                       d.host.empty() ? "-" : d.host, d.release, d.machine, d.build_id.empty() ? "-" : d.build_id);
  out += "\n(coroner fleet show DUMP prints a dump's triage report)\n";
  return out;
}

}  // namespace coroner::frontends::fleet
