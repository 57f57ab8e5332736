#include "analyzer/frontends/fleet/fleet_command.hpp"

#include "analyzer/frontends/fleet/fleet_render.hpp"
#include "analyzer/frontends/fleet/fleet_store.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <istream>
#include <iterator>
#include <iomanip>
#include <ostream>
#include <sstream>

namespace coroner::frontends {

namespace {

using namespace fleet;

constexpr std::string_view kUsage =
    "usage: coroner fleet ingest [--db URL] [--batch N] [--format text|json] REPORT.json...|-\n"
    "       coroner fleet report [--db URL] [--since T] [--format text|json|html] [-o FILE]\n"
    "       coroner fleet show [--db URL] [--since T] [--format text|json] SIGNATURE|DUMP\n";
// Reports per transaction when ingesting many files (--batch).
constexpr size_t kDefaultBatch = 1000;

struct FleetOptions {
  std::string action;
  std::string db;
  int64_t since = 0;
  std::string format = "text";
  std::string output;
  size_t batch = kDefaultBatch;
  std::vector<std::string> positional;
};

// --since: seconds since the epoch, a UTC date (2026-11-22) or time
// (2026-11-22T19:04:10Z), or a span back from now (12h, 30d, 2w).
Expected<int64_t> parse_since(const std::string& value, int64_t now) {
  int64_t number = 0;
  const char* end = value.data() + value.size();
  auto [rest, error] = std::from_chars(value.data(), end, number);
  if (error == std::errc() && rest == end) return number;
  if (error == std::errc() && rest + 1 == end && number >= 0) {
    if (*rest == 'h') return now - number * 3600;
    if (*rest == 'd') return now - number * 86400;
    if (*rest == 'w') return now - number * 7 * 86400;
  }
  std::tm tm{};
  std::istringstream in(value);
  in >> std::get_time(&tm, value.size() > 10 ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d");
  if (!in.fail() && (in.peek() == EOF || in.get() == 'Z')) return static_cast<int64_t>(timegm(&tm));
  return make_error(Errc::invalid_argument,
                    "fleet: --since takes seconds since the epoch, YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or a span "
                    "(12h, 30d, 2w), not '{}'",
                    value);
}

Expected<FleetOptions> parse_options(const std::vector<std::string>& args) {
  FleetOptions options;
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  if (args.empty() || (args[0] != "ingest" && args[0] != "report" && args[0] != "show"))
    return make_error(Errc::invalid_argument, "fleet: say ingest, report or show");
  options.action = args[0];
  if (const char* db = std::getenv("CORONER_FLEET_DB"); db && *db) options.db = db;
  else options.db = "coroner-fleet.db";
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--db" || a == "--since" || a == "--format" || a == "-o" || a == "--batch") {
      if (i + 1 == args.size()) return make_error(Errc::invalid_argument, "fleet: {} needs a value", a);
      const std::string& value = args[++i];
      if (a == "--db") options.db = value;
      else if (a == "--format") options.format = value;
      else if (a == "-o") options.output = value;
      else if (a == "--batch") {
        auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), options.batch);
        if (error != std::errc() || end != value.data() + value.size() || options.batch == 0)
          return make_error(Errc::invalid_argument, "fleet: --batch takes a positive number, not '{}'", value);
      } else {
        CORONER_TRY(since, parse_since(value, now));
        options.since = since;
      }
    } else if (a.size() > 1 && a[0] == '-') {
      return make_error(Errc::invalid_argument, "fleet {}: unknown option {}", options.action, a);
    } else {
      options.positional.push_back(a);
    }
  }
  const bool html = options.action == "report";
  if (options.format != "text" && options.format != "json" && !(html && options.format == "html"))
    return make_error(Errc::invalid_argument, "fleet {}: --format takes text, json{}, not '{}'", options.action,
                      html ? " or html" : "", options.format);
  if (options.action == "ingest" && options.positional.empty())
    return make_error(Errc::invalid_argument, "fleet ingest: need REPORT.json files (coroner triage --format json)");
  if (options.action == "report" && !options.positional.empty())
    return make_error(Errc::invalid_argument, "fleet report: unexpected argument {}", options.positional.front());
  if (options.action == "show" && options.positional.size() != 1)
    return make_error(Errc::invalid_argument, "fleet show: need one SIGNATURE or DUMP identity");
  return options;
}

// The record of one report's JSON text; errors name `where` it came from.
Expected<FleetRecord> parse_record(std::string_view text, const std::string& where, int64_t now) {
  const nlohmann::json report = nlohmann::json::parse(text, nullptr, false);
  if (report.is_discarded()) return make_error(Errc::corrupt, "{}: not JSON", where);
  auto record = record_from_report(report, now);
  if (!record) return record.error().context(where);
  return record;
}

Expected<FleetRecord> read_record(const std::string& path, int64_t now) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::io, "{}: cannot read", path);
  const std::string text{std::istreambuf_iterator<char>(in), {}};
  return parse_record(text, path, now);
}

// REPORT.json files, or with "-" the reports on standard input, one JSON
// document per line (JSON Lines, as from a collector's pipe).
int ingest(FleetStore& store, const FleetOptions& options, std::istream& in, std::ostream& out,
           std::ostream& errors) {
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  IngestCount total;
  size_t reports = 0, unreadable = 0;
  std::vector<FleetRecord> batch;
  auto flush = [&]() -> bool {
    auto count = store.ingest(batch);
    batch.clear();
    if (!count) {
      errors << "coroner: fleet ingest: " << count.error().message() << '\n';
      return false;
    }
    total.added += count->added;
    total.present += count->present;
    return true;
  };
  auto add = [&](Expected<FleetRecord> record) -> bool {
    ++reports;
    if (!record) {
      errors << "coroner: fleet ingest: " << record.error().message() << '\n';
      ++unreadable;
      return true;
    }
    batch.push_back(std::move(*record));
    return batch.size() < options.batch || flush();
  };
  if (options.positional == std::vector<std::string>{"-"}) {
    size_t number = 0;
    for (std::string line; std::getline(in, line);)
      if (++number; line.find_first_not_of(" \t\r") != std::string::npos &&
                    !add(parse_record(line, fmt::format("standard input line {}", number), now)))
        return 1;
  } else {
    for (const std::string& path : options.positional)
      if (!add(read_record(path, now))) return 1;
  }
  if (!batch.empty() && !flush()) return 1;
  if (options.format == "json")
    out << nlohmann::json{{"reports", reports}, {"added", total.added}, {"already_present", total.present},
                          {"unreadable", unreadable}}
               .dump()
        << '\n';
  else
    out << fmt::format("{} reports: {} new dumps, {} already in the store{}\n", reports, total.added, total.present,
                       unreadable ? fmt::format(", {} unreadable", unreadable) : "");
  return unreadable ? 1 : 0;
}

Expected<std::string> report(FleetStore& store, const FleetOptions& options) {
  CORONER_TRY(groups, store.groups(options.since));
  if (options.format == "json") return report_json(groups, options.since).dump(2) + "\n";
  if (options.format == "text") return render_report_text(groups, options.since);
  std::map<std::string, std::string> examples;
  for (const SignatureGroup& group : groups) {
    CORONER_TRY(example, store.report_of(group.example));
    if (example) examples[group.example] = *example;
  }
  return render_report_html(groups, options.since, examples);
}

Expected<std::string> show(FleetStore& store, const FleetOptions& options) {
  const std::string& what = options.positional.front();
  CORONER_TRY(groups, store.groups(options.since, what));
  if (groups.empty()) {
    CORONER_TRY(report, store.report_of(what));
    if (!report) return make_error(Errc::not_found, "fleet show: no signature or dump {} in the store", what);
    const nlohmann::json parsed = nlohmann::json::parse(*report, nullptr, false);
    return (parsed.is_discarded() ? *report : parsed.dump(2)) + "\n";
  }
  CORONER_TRY(dumps, store.dumps_of(what, options.since));
  if (options.format == "json") return show_json(groups.front(), dumps).dump(2) + "\n";
  return render_show_text(groups.front(), dumps);
}

}  // namespace

int run_fleet(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& errors) {
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help" || args.back() == "--help")) {
    out << kUsage << "(docs/fleet.md tells more)\n";
    return 0;
  }
  auto options = parse_options(args);
  if (!options) {
    errors << "coroner: " << options.error().message() << '\n' << kUsage;
    return 2;
  }
  auto store = FleetStore::open(options->db);
  if (!store) {
    errors << "coroner: fleet: " << store.error().message() << '\n';
    return 1;
  }
  if (options->action == "ingest") return ingest(*store, *options, in, out, errors);
  auto text = options->action == "report" ? report(*store, *options) : show(*store, *options);
  if (!text) {
    errors << "coroner: " << text.error().message() << '\n';
    return 1;
  }
  if (options->output.empty()) {
    out << *text << std::flush;
    return out ? 0 : 1;
  }
  std::ofstream file(options->output, std::ios::binary | std::ios::trunc);
  file << *text;
  file.close();
  if (!file) {
    errors << "coroner: fleet: cannot write " << options->output << '\n';
    return 1;
  }
  return 0;
}

}  // namespace coroner::frontends
