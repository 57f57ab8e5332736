#include "capture/options.hpp"

#include "capture/capture_manual.hpp"
#include "capture/format/vmcoreinfo.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>

namespace coroner::capture {
namespace {

Expected<unsigned> number_argument(std::string_view option, std::string_view text, unsigned max) {
  auto value = parse_uint(text, 10);
  if (!value || *value > max)
    return make_error(Errc::invalid_argument, "{}: expected a number from 0 to {}, got '{}'", option, max, text);
  return static_cast<unsigned>(*value);
}

Expected<void> set_codec(CaptureOptions& options, PageCodec codec, std::string_view flag) {
  if (options.codec != PageCodec::none && options.codec != codec)
    return make_error(Errc::invalid_argument, "{}: only one of -c, -l, -p and -z may be given", flag);
  options.codec = codec;
  return {};
}

// Operands by mode: -R's one is DUMPFILE; --reassemble's last is DUMPFILE.
Expected<void> place_operands(CaptureOptions& o, std::vector<std::string> operands) {
  if (o.mode == CaptureMode::rearrange) {
    if (operands.size() != 1) return make_error(Errc::invalid_argument, "-R takes one DUMPFILE (the stream is read from standard input)");
    o.outputs = std::move(operands);
    return {};
  }
  if (o.mode == CaptureMode::reassemble) {
    if (operands.size() < 3)
      return make_error(Errc::invalid_argument, "--reassemble takes the split DUMPFILEs (two or more) and the DUMPFILE to write");
    o.outputs = {operands.back()};
    operands.pop_back();
    o.input = operands.front();
    o.split_inputs = std::move(operands);
    return {};
  }
  if (operands.empty()) return make_error(Errc::invalid_argument, "missing VMCORE (the dump to read)");
  o.input = operands.front();
  o.outputs.assign(operands.begin() + 1, operands.end());
  return {};
}

Expected<void> check_consistency(const CaptureOptions& o) {
  bool writes_pages = o.elf || o.flatten || o.split || o.codec != PageCodec::none || o.dump_level != 0 ||
                      !o.erase_config.empty();
  switch (o.mode) {
    case CaptureMode::rearrange:
    case CaptureMode::reassemble:
      if (writes_pages || o.dry_run)
        return make_error(Errc::invalid_argument, "{} copies a dump as it is: no other dump options apply",
                          o.mode == CaptureMode::rearrange ? "-R" : "--reassemble");
      return {};
    case CaptureMode::mem_usage:
      if (!o.outputs.empty()) return make_error(Errc::invalid_argument, "--mem-usage takes VMCORE only");
      if (writes_pages) return make_error(Errc::invalid_argument, "--mem-usage writes no dump: no dump options apply");
      return {};
    case CaptureMode::dmesg:
      if (o.outputs.size() != 1) return make_error(Errc::invalid_argument, "--dump-dmesg takes VMCORE and one LOGFILE");
      if (writes_pages) return make_error(Errc::invalid_argument, "--dump-dmesg writes text: -E, -F, --split, -d, --config and compression do not apply");
      if (o.dry_run) return make_error(Errc::invalid_argument, "--dry-run cannot be used with --dump-dmesg");
      return {};
    case CaptureMode::dump: break;
  }
  if (o.elf && o.codec != PageCodec::none)
    return make_error(Errc::invalid_argument, "-E writes an uncompressed ELF dump: drop -c, -l, -p or -z");
  if (o.flatten && o.split) return make_error(Errc::invalid_argument, "-F and --split cannot be combined");
  if (o.elf && o.split) return make_error(Errc::invalid_argument, "-E and --split cannot be combined");
  if (o.flatten && !o.outputs.empty())
    return make_error(Errc::invalid_argument, "-F writes to standard output: give no DUMPFILE");
  if (!o.flatten && o.outputs.empty()) return make_error(Errc::invalid_argument, "missing DUMPFILE");
  if (o.split && o.outputs.size() < 2) return make_error(Errc::invalid_argument, "--split needs two or more DUMPFILEs");
  if (!o.split && o.outputs.size() > 1)
    return make_error(Errc::invalid_argument, "more than one DUMPFILE needs --split");
  if (o.zstd_level && o.codec != PageCodec::zstd)
    return make_error(Errc::invalid_argument, "--zstd-level applies only with -z");
  return {};
}

Expected<void> set_mode(CaptureOptions& o, CaptureMode mode, std::string_view flag) {
  if (o.mode != CaptureMode::dump && o.mode != mode)
    return make_error(Errc::invalid_argument, "{}: only one of --dump-dmesg, -R, --reassemble and --mem-usage may be given", flag);
  o.mode = mode;
  return {};
}

}  // namespace

Expected<CaptureOptions> parse_options(const std::vector<std::string>& args) {
  CaptureOptions o;
  std::vector<std::string> operands;
  bool only_operands = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (only_operands || arg.size() < 2 || arg[0] != '-') {
      operands.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      only_operands = true;
      continue;
    }
    // The value of an option that takes one: "--opt=V", "--opt V", "-dV", "-d V".
    auto value = [&](std::string_view name, std::optional<std::string_view> inline_value) -> Expected<std::string> {
      if (inline_value) return std::string(*inline_value);
      if (i + 1 >= args.size()) return make_error(Errc::invalid_argument, "{} needs a value", name);
      return args[++i];
    };
    if (arg.starts_with("--")) {
      std::string_view name = arg;
      std::optional<std::string_view> inline_value;
      if (auto eq = arg.find('='); eq != std::string_view::npos) {
        name = arg.substr(0, eq);
        inline_value = arg.substr(eq + 1);
      }
      if (name == "--help") o.help = true;
      else if (name == "--version") o.version = true;
      else if (name == "--split") o.split = true;
      else if (name == "--dump-dmesg") CORONER_CHECK(set_mode(o, CaptureMode::dmesg, name));
      else if (name == "--reassemble") CORONER_CHECK(set_mode(o, CaptureMode::reassemble, name));
      else if (name == "--mem-usage") CORONER_CHECK(set_mode(o, CaptureMode::mem_usage, name));
      else if (name == "--dry-run") o.dry_run = true;
      else if (name == "--check-params") o.check_params = true;
      else if (name == "--show-stats") o.message_level |= kMessageReport;
      else if (name == "--non-cyclic") o.non_cyclic = true;
      else if (name == "--cyclic-buffer" || name == "--splitblock-size") {
        CORONER_TRY(text, value(name, inline_value));
        auto number = parse_uint(text, 10);
        if (!number) return make_error(Errc::invalid_argument, "{}: expected a number, got '{}'", name, text);
        // --splitblock-size sizes makedumpfile's --split work units: ours split by kept pages.
        if (name == "--cyclic-buffer") o.cyclic_buffer_kib = std::min<uint64_t>(*number, uint64_t{1} << 32);
      } else if (name == "--work-dir") {
        // makedumpfile keeps bitmaps there with --non-cyclic; ours stay in memory.
        CORONER_CHECK(value(name, inline_value));
      } else if (name == "--config") {
        CORONER_TRY(path, value(name, inline_value));
        o.erase_config = path;
      } else if (name == "--zstd-level" || name == "--num-threads" || name == "--message-level") {
        CORONER_TRY(text, value(name, inline_value));
        if (name == "--zstd-level") {
          // Negative levels are zstd's fast modes (cheaper than lzo here).
          bool fast = text.starts_with("-");
          CORONER_TRY(level, number_argument(name, fast ? text.substr(1) : text, fast ? 100 : 22));
          if (level == 0) return make_error(Errc::invalid_argument, "--zstd-level: expected -100 to -1 or 1 to 22");
          o.zstd_level = fast ? -static_cast<int>(level) : static_cast<int>(level);
        } else if (name == "--num-threads") {
          CORONER_TRY(threads, number_argument(name, text, 256));
          o.num_threads = threads;
        } else {
          CORONER_TRY(level, number_argument(name, text, 31));
          o.message_level = level;
        }
      } else {
        return make_error(Errc::invalid_argument, "unknown option '{}'", name);
      }
      continue;
    }
    // Short options, which may be bundled: "-cf", "-d31", "-cd 31".
    for (size_t k = 1; k < arg.size(); ++k) {
      char flag = arg[k];
      // The rest of this word, or the next one: the value of -d, -b, -x, -i.
      auto flag_value = [&]() -> Expected<std::string> {
        std::optional<std::string_view> rest;
        if (k + 1 < arg.size()) rest = arg.substr(k + 1);
        k = arg.size();
        return value(std::string("-") + flag, rest);
      };
      switch (flag) {
        case 'c': CORONER_CHECK(set_codec(o, PageCodec::zlib, "-c")); break;
        case 'l': CORONER_CHECK(set_codec(o, PageCodec::lzo, "-l")); break;
        case 'p': CORONER_CHECK(set_codec(o, PageCodec::snappy, "-p")); break;
        case 'z': CORONER_CHECK(set_codec(o, PageCodec::zstd, "-z")); break;
        case 'E': o.elf = true; break;
        case 'F': o.flatten = true; break;
        case 'f': o.force = true; break;
        case 'D': o.debug = true; break;
        case 'R': CORONER_CHECK(set_mode(o, CaptureMode::rearrange, "-R")); break;
        case 'h': o.help = true; break;
        case 'v': o.version = true; break;
        case 'd': {
          CORONER_TRY(text, flag_value());
          CORONER_TRY(level, number_argument("-d", text, 31));
          o.dump_level = level;
          break;
        }
        case 'b': {  // makedumpfile's bitmap cache (2^N pages): nothing to size here
          CORONER_TRY(text, flag_value());
          CORONER_CHECK(number_argument("-b", text, 63));
          break;
        }
        case 'x': {
          CORONER_TRY(path, flag_value());
          o.vmlinux = path;
          break;
        }
        case 'i': {
          CORONER_TRY(path, flag_value());
          o.vmcoreinfo_file = path;
          break;
        }
        default: return make_error(Errc::invalid_argument, "unknown option '-{}'", flag);
      }
    }
  }
  if (o.help || o.version) return o;
  CORONER_CHECK(place_operands(o, std::move(operands)));
  CORONER_CHECK(check_consistency(o));
  return o;
}

std::string usage_text() { return manual::help_text(capture_manual()); }

}  // namespace coroner::capture
