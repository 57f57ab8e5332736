// coroner-capture's command line, with makedumpfile's option names:
//   coroner-capture [-c|-l|-p|-z] [--zstd-level N] [-d LEVEL] [-E] [-F]
//                   [--split] [--num-threads N] [--dump-dmesg]
//                   [--message-level N] [-f] VMCORE [DUMPFILE...]
#pragma once

#include "capture/format/error.hpp"
#include "capture/format/page_codec.hpp"

#include <string>
#include <vector>

namespace coroner::capture {

// makedumpfile's --message-level bits.
enum MessageLevel : unsigned {
  kMessageProgress = 1,  // the progress bar (on a terminal)
  kMessageCommon = 2,    // what is being done
  kMessageError = 4,     // errors
  kMessageReport = 16,   // the closing report
};

struct CaptureOptions {
  PageCodec codec = PageCodec::none;
  int zstd_level = 0;           // 0: the codec's default
  unsigned dump_level = 0;      // -d, 0..31
  bool elf = false;             // -E
  bool flatten = false;         // -F: flattened stream on standard output
  bool split = false;           // --split
  unsigned num_threads = 0;     // --num-threads
  bool dump_dmesg = false;      // --dump-dmesg: the kernel log as text
  unsigned message_level = kMessageProgress | kMessageCommon | kMessageError | kMessageReport;
  bool force = false;           // -f: overwrite an existing file
  bool help = false;
  bool version = false;
  std::string input;
  std::vector<std::string> outputs;
};

// Parses argv (without argv[0]). Errc::invalid_argument with a one-line
// reason for a bad or inconsistent command line.
Expected<CaptureOptions> parse_options(const std::vector<std::string>& args);

// --help: rendered from capture_manual().
std::string usage_text();

}  // namespace coroner::capture
