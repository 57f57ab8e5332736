// coroner-capture's command line, with makedumpfile's option names:
//   coroner-capture [-c|-l|-p|-z] [--zstd-level N] [-d LEVEL] [-E] [-F]
//                   [--split] [--num-threads N] [--dump-dmesg] [--dry-run]
//                   [--message-level N] [-D] [-f] [-i VMCOREINFO]
//                   [--config OFFSETS] [--check-params] VMCORE [DUMPFILE...]
//   coroner-capture -R DUMPFILE < FLATTENED
//   coroner-capture --reassemble DUMPFILE1 DUMPFILE2 [...] DUMPFILE
//   coroner-capture --mem-usage VMCORE
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

// What a run does.
enum class CaptureMode {
  dump,        // write DUMPFILE(s) (or -F's stream) from VMCORE
  dmesg,       // --dump-dmesg: the kernel log as text
  rearrange,   // -R: a flattened stream on standard input into DUMPFILE
  reassemble,  // --reassemble: the DUMPFILEs of --split into one
  mem_usage,   // --mem-usage: the page counts of each excludable kind
};

struct CaptureOptions {
  PageCodec codec = PageCodec::none;
  int zstd_level = 0;           // 0: the codec's default
  unsigned dump_level = 0;      // -d, 0..31
  bool elf = false;             // -E
  bool flatten = false;         // -F: flattened stream on standard output
  bool split = false;           // --split
  unsigned num_threads = 0;     // --num-threads
  CaptureMode mode = CaptureMode::dump;
  bool dry_run = false;         // --dry-run: everything but writing
  bool check_params = false;    // --check-params: only say whether the command line is valid
  uint64_t cyclic_buffer_kib = 0;  // --cyclic-buffer: KiB of bitmap per filtering window (0: the default)
  bool non_cyclic = false;      // --non-cyclic: one window, the whole bitmap in memory
  bool debug = false;           // -D: debug messages
  unsigned message_level = kMessageProgress | kMessageCommon | kMessageError | kMessageReport;
  bool force = false;           // -f: overwrite an existing file
  bool help = false;
  bool version = false;
  std::string vmcoreinfo_file;      // -i: VMCOREINFO text to use instead of the dump's
  std::string vmlinux;              // -x: accepted; VMCOREINFO and --config's offsets replace its DWARF
  std::string erase_config;         // --config: erase offsets made by `coroner erase-offsets`
  std::string input;                // VMCORE (the first split file for --reassemble)
  std::vector<std::string> split_inputs;  // --reassemble: every split DUMPFILE
  std::vector<std::string> outputs;
};

// Parses argv (without argv[0]). Errc::invalid_argument with a one-line
// reason for a bad or inconsistent command line.
Expected<CaptureOptions> parse_options(const std::vector<std::string>& args);

// --help: rendered from capture_manual().
std::string usage_text();

}  // namespace coroner::capture
