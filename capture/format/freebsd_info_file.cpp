#include "capture/format/freebsd_info_file.hpp"

#include "capture/format/vmcoreinfo.hpp"

#include <chrono>
#include <filesystem>
#include <vector>

namespace coroner::freebsd {
namespace {

// Labels in printheader()'s order; a line starting with none of them
// continues the field before it (the version string's later lines).
const std::vector<std::string_view> kLabels{
    "Architecture", "Architecture Version", "Dump Length", "Blocksize", "Compression", "Dumptime",   "Hostname",
    "Magic",        "Version String",       "Panic String", "Dump Parity", "Bounds", "Dump Status"};

std::optional<std::pair<std::string_view, std::string_view>> labelled(std::string_view line) {
  size_t start = line.find_first_not_of(' ');
  if (start == std::string_view::npos) return std::nullopt;
  size_t colon = line.find(": ", start);
  if (colon == std::string_view::npos) {
    // "  Panic String: " with an empty value may lose its trailing blank.
    if (!line.ends_with(':')) return std::nullopt;
    colon = line.size() - 1;
  }
  std::string_view label = line.substr(start, colon - start);
  for (std::string_view known : kLabels)
    if (label == known) return std::pair{label, colon + 2 <= line.size() ? line.substr(colon + 2) : std::string_view{}};
  return std::nullopt;
}

std::optional<unsigned> digits(std::string_view text, size_t at, size_t count) {
  if (at + count > text.size()) return std::nullopt;
  auto value = parse_uint(text.substr(at, count), 10);
  if (!value) return std::nullopt;
  return static_cast<unsigned>(*value);
}

}  // namespace

std::optional<uint64_t> parse_dump_time(std::string_view text) {
  // 0123456789012345678901234
  // 2026-12-04 03:00:00 +0000
  if (text.size() != 25 || text[4] != '-' || text[7] != '-' || text[10] != ' ' || text[13] != ':' ||
      text[16] != ':' || text[19] != ' ' || (text[20] != '+' && text[20] != '-'))
    return std::nullopt;
  auto year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  auto hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2);
  auto zone_hours = digits(text, 21, 2), zone_minutes = digits(text, 23, 2);
  if (!year || !month || !day || !hour || !minute || !second || !zone_hours || !zone_minutes) return std::nullopt;
  std::chrono::year_month_day date{std::chrono::year(static_cast<int>(*year)), std::chrono::month(*month),
                                   std::chrono::day(*day)};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60 || *zone_minutes > 59) return std::nullopt;
  int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  int64_t zone = (int64_t{*zone_hours} * 60 + *zone_minutes) * 60 * (text[20] == '-' ? -1 : 1);
  int64_t seconds = days * 86400 + *hour * 3600 + *minute * 60 + *second - zone;
  if (seconds < 0) return std::nullopt;
  return static_cast<uint64_t>(seconds);
}

Expected<KernelDumpHeader> parse_info_file(std::string_view text, std::string_view name) {
  KernelDumpHeader h;
  std::string* open_field = nullptr;  // the field continuation lines extend
  size_t line_number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_number;
    auto field = labelled(line);
    if (!field) {
      if (open_field) *open_field += std::string(line) + "\n";
      continue;
    }
    auto [label, value] = *field;
    open_field = nullptr;
    auto number = [&](auto& out) -> Expected<void> {
      auto parsed = parse_uint(value, 10);
      if (!parsed || *parsed > std::numeric_limits<std::remove_reference_t<decltype(out)>>::max())
        return make_error(Errc::corrupt, "{}: line {}: {} \"{}\" is not a number", name, line_number, label, value);
      out = static_cast<std::remove_reference_t<decltype(out)>>(*parsed);
      return {};
    };
    if (label == "Architecture") h.architecture = value;
    else if (label == "Architecture Version") CORONER_CHECK(number(h.architecture_version));
    else if (label == "Dump Length") CORONER_CHECK(number(h.dump_length));
    else if (label == "Blocksize") CORONER_CHECK(number(h.block_size));
    else if (label == "Hostname") h.hostname = value;
    else if (label == "Dump Parity") CORONER_CHECK(number(h.parity));
    else if (label == "Compression") {
      if (value == "gzip") h.compression = DumpCompression::gzip;
      else if (value == "zstd") h.compression = DumpCompression::zstd;
      else h.compression = DumpCompression::none;
    } else if (label == "Dumptime") {
      auto seconds = parse_dump_time(value);
      if (!seconds)
        return make_error(Errc::corrupt, "{}: line {}: Dumptime \"{}\" is not \"YYYY-MM-DD HH:MM:SS +ZZZZ\"", name,
                          line_number, value);
      h.dump_time = *seconds;
    } else if (label == "Magic") {
      if (value == "FreeBSD Text Dump") h.magic = DumpMagic::text_dump;
      else if (value == "Cleared Kernel Dump") h.magic = DumpMagic::cleared;
    } else if (label == "Version String") {
      h.version_string = std::string(value) + "\n";
      open_field = &h.version_string;
    } else if (label == "Panic String") {
      h.panic_string = value;
    }
  }
  // The version string ends in its own newline, printed before the next label.
  while (h.version_string.ends_with("\n\n")) h.version_string.pop_back();
  h.dump_extent = h.dump_length;
  return h;
}

std::string format_info_file(const KernelDumpHeader& h, std::string_view device, uint64_t bounds,
                             std::string_view status) {
  std::string magic = h.magic == DumpMagic::kernel_dump ? "FreeBSD Kernel Dump"
                      : h.magic == DumpMagic::text_dump ? "FreeBSD Text Dump"
                                                        : "Cleared Kernel Dump";
  std::chrono::sys_seconds when{std::chrono::seconds(static_cast<int64_t>(h.dump_time))};
  std::chrono::year_month_day date{std::chrono::floor<std::chrono::days>(when)};
  int64_t second_of_day = (when - std::chrono::floor<std::chrono::days>(when)).count();
  std::string time = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} +0000", static_cast<int>(date.year()),
                                 static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                                 second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
  // The version string keeps its own newline before the next label.
  std::string version = h.version_string;
  if (version.empty() || version.back() != '\n') version += '\n';
  return fmt::format("Dump header from device: {}\n  Architecture: {}\n  Architecture Version: {}\n"
                     "  Dump Length: {}\n  Blocksize: {}\n  Compression: {}\n  Dumptime: {}\n  Hostname: {}\n"
                     "  Magic: {}\n  Version String: {}  Panic String: {}\n  Dump Parity: {}\n  Bounds: {}\n"
                     "  Dump Status: {}\n",
                     device, h.architecture, h.architecture_version, h.dump_length, h.block_size,
                     compression_name(h.compression), time, h.hostname, magic, version, h.panic_string, h.parity,
                     bounds, status);
}

bool is_encrypted_vmcore_name(const std::string& path) {
  return std::filesystem::path(path).filename().string().starts_with("vmcore_encrypted.");
}

std::optional<std::string> info_file_beside(const std::string& dump_path) {
  namespace fs = std::filesystem;
  fs::path path(dump_path);
  std::string name = path.filename().string();
  for (std::string_view prefix : {"vmcore_encrypted.", "vmcore.", "livecore."}) {
    if (!name.starts_with(prefix)) continue;
    std::string_view rest = std::string_view(name).substr(prefix.size());
    std::string_view n = rest.substr(0, rest.find('.'));
    if (n.empty() || !parse_uint(n, 10)) return std::nullopt;
    fs::path info = path.parent_path() / ("info." + std::string(n));
    std::error_code ec;
    if (fs::is_regular_file(info, ec)) return info.string();
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace coroner::freebsd
