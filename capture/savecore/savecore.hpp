// coroner-capture savecore: FreeBSD's savecore(8) for a Linux workstation
// or a rescue system. Takes the kernel dump off a dump device (or its
// image), or reads a rescue kernel's /dev/dumper stream, into a crash
// directory as savecore does: vmcore.N (vmcore.N.zst / .gz when the kernel
// compressed it, or with -z) and info.N, N from the `bounds` file, then
// marks the device's dump as saved ("Cleared Kernel Dump") unless -k.
//   coroner-capture savecore [-k] [-z] DEVICE DIRECTORY
//   coroner-capture savecore [-z] --from-dumper PATH DIRECTORY
#pragma once

#include "capture/format/error.hpp"

#include <string>
#include <vector>

namespace coroner::capture {

struct SavecoreOptions {
  std::string input;       // DEVICE, or the --from-dumper stream
  bool from_dumper = false;
  std::string directory;
  bool keep = false;  // -k: leave the trailer as it is
  bool zstd = false;  // -z: compress what the kernel did not
  bool help = false;
};

// argv after "savecore"; a one-line reason for a bad command line.
Expected<SavecoreOptions> parse_savecore_options(const std::vector<std::string>& args);

struct SavedDump {
  uint64_t number = 0;     // the N
  std::string vmcore, info;
};

// Verifies the headers, writes the files (never a partial vmcore.N: each
// file gets its name only once whole), updates `bounds`, clears the
// trailer. On an error nothing new is left in the directory.
Expected<SavedDump> run_savecore(const SavecoreOptions& options);

}  // namespace coroner::capture
