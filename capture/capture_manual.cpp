#include "capture/capture_manual.hpp"

namespace coroner::capture {

manual::ProgramManual capture_manual() {
  manual::ProgramManual m;
  m.name = "coroner-capture";
  m.section = 8;
  m.summary = "write a Linux crash dump, filtered and compressed (makedumpfile's options)";
  m.synopsis = {
      "[-c|-l|-p|-z] [--zstd-level N] [-d LEVEL] [-E] [-F] [--split] [--num-threads N] [--config OFFSETS] "
      "[-i VMCOREINFO] [--dry-run] [--show-stats] [--message-level N] [-D] [-f] VMCORE DUMPFILE [DUMPFILE...]",
      "--dump-dmesg VMCORE LOGFILE",
      "-R DUMPFILE < FLATTENED",
      "--reassemble DUMPFILE1 DUMPFILE2 [DUMPFILE3...] DUMPFILE",
      "--mem-usage VMCORE",
      "savecore [-k] [-z] DEVICE DIRECTORY",
      "savecore [-z] --from-dumper PATH DIRECTORY",
  };
  m.description =
      "Writes a crash dump that crash, drgn, makedumpfile and coroner can open, from VMCORE: /proc/vmcore in a "
      "kdump capture kernel, an ELF vmcore file, a kdump-compressed dump (to filter or compress it again) or "
      "/proc/kcore. The options are makedumpfile's, with its meaning and exit statuses, so that kdump-tools "
      "and kdump-utils can run coroner-capture in its place. `coroner-capture savecore` saves a FreeBSD kernel "
      "dump from its dump device (or an image of it), or from a rescue kernel's /dev/dumper stream, as "
      "FreeBSD's savecore(8) does.";
  m.options = {
      {"-c, -l, -p, -z", "",
       "compress pages with zlib, lzo, snappy or zstd (kdump-compressed output; without one pages are stored raw); "
       "savecore -z: write vmcore.N.zst unless the kernel already compressed the dump"},
      {"--zstd-level", "N", "zstd level, 1 to 22, or -100 to -1 for zstd's fast modes (default 1)"},
      {"-d", "LEVEL",
       "exclude pages, a sum of: 1 zero-filled, 2 non-private cache, 4 private cache, 8 user data, 16 free "
       "(default 0)"},
      {"-E", "", "write an ELF dump instead of kdump-compressed"},
      {"-F", "",
       "write makedumpfile's flattened format to standard output (reassemble with makedumpfile -R); no DUMPFILE"},
      {"--split", "", "write one dump in several DUMPFILEs, one pfn range each"},
      {"--num-threads", "N", "compress with N worker threads (default 0: in line)"},
      {"--dump-dmesg", "", "write only the kernel log, as text, to LOGFILE"},
      {"-R", "", "read a flattened stream (-F's output) from standard input and write the dump it holds to DUMPFILE"},
      {"--reassemble", "", "join the DUMPFILEs of a --split dump into the last DUMPFILE, one kdump file"},
      {"--config", "OFFSETS",
       "erase secrets while writing: OFFSETS is made in advance from a makedumpfile filter config by "
       "`coroner erase-offsets --config FILE -o OFFSETS VMLINUX` (a makedumpfile.conf itself is refused: the "
       "capture kernel has no DWARF). Erased bytes are written as 'X', nullified pointers as zeros, and kdump "
       "files record what was erased, as makedumpfile does"},
      {"-x", "VMLINUX", "accepted for makedumpfile's command lines; VMCOREINFO and --config's offsets replace its DWARF"},
      {"-i", "VMCOREINFO", "filter with this VMCOREINFO text instead of the dump's"},
      {"--dry-run", "", "do everything but write: no DUMPFILE is created (the report says what would be written)"},
      {"--show-stats", "", "print the closing report (as --message-level bit 16)"},
      {"--check-params", "",
       "only check the command line: exit 0 when it is valid, 1 with the reason when not; nothing is read or "
       "written (Fedora's mkdumprd checks its core_collector so)"},
      {"--mem-usage", "",
       "print makedumpfile's table of pages by kind (zero, cache, private cache, user, free, kernel data) of "
       "VMCORE and write nothing. makedumpfile reads only /proc/kcore with a crashkernel reservation; "
       "coroner-capture reads any VMCORE, counting as -d 31 would exclude"},
      {"--message-level", "N", "a sum of: 1 progress bar, 2 messages, 4 errors, 16 closing report (default 23)"},
      {"-D", "", "debug messages: what the input is, where VMCOREINFO came from, -R's records"},
      {"-f", "", "overwrite an existing DUMPFILE"},
      {"--cyclic-buffer", "KIB",
       "filter and write a window of KIB*8192 pages at a time (makedumpfile's cyclic mode: a first pass writes "
       "the windows' bitmaps, or counts the ELF segments, a second writes their pages; --split counts the pages "
       "of each window first to place the parts); default a 16 MiB bitmap, 512 GiB of 4 KiB pages, so smaller "
       "machines take one window"},
      {"--non-cyclic", "", "one window: the bitmap of every page in memory (one bit a page)"},
      {"-b, --splitblock-size, --work-dir", "",
       "makedumpfile's bitmap cache, --split work units and bitmap files: accepted (with their values) and "
       "ignored, since coroner-capture keeps its bitmaps in memory and splits work by page batches"},
      {"-k", "", "savecore: keep the dump on DEVICE (do not mark its trailer \"Cleared Kernel Dump\")"},
      {"--from-dumper", "PATH",
       "savecore: read a rescue kernel's /dev/dumper (the host's minidump as one stream) instead of a DEVICE"},
      {"-h, --help", "", "this text"},
      {"-v, --version", "", "the version"},
  };
  m.sections = {
      {"FILES",
       "Dump files are created mode 0600. A block device as DUMPFILE is written in place. The header is written "
       "first, marked incomplete, and completed only after everything is written and synced.",
       {}},
      {"SAVECORE",
       "savecore checks the dump's leader and trailer kerneldumpheaders (magic, version, parity, leader equal to "
       "trailer, the extent inside the device), then writes vmcore.N and info.N into DIRECTORY, N read from its "
       "bounds file (then moved past any file already there) and bounds set to N+1. A dump the kernel compressed "
       "(dumpon -z, -Z) is kept as it is, vmcore.N.gz or vmcore.N.zst. Each file is written under a temporary "
       "name, mode 0600, synced and renamed only when whole: an error leaves nothing new behind. Last, the "
       "trailer's magic becomes \"Cleared Kernel Dump\" (unless -k), so the dump is not saved twice. With "
       "--from-dumper the stream's length follows from its minidump header and page bitmap; a stream that ends "
       "early saves nothing. coroner opens vmcore.N (any form) with info.N beside it.",
       {}},
      {"EXIT STATUS",
       "0 when the dump is complete; 1 on an error (a full disk, an I/O error, SIGINT or SIGTERM leave the dump "
       "marked incomplete) and for a bad command line (one line naming the problem), as makedumpfile; 3 when the dump is written but some pages of the input "
       "could not be read (EIO from /proc/vmcore): a kdump file leaves them out of its bitmap, so readers say "
       "they are not in the dump; an ELF dump writes them as zeros unless zero pages are excluded (-d with bit "
       "1). The message names the first one and the count.",
       {}},
      {"EXAMPLES",
       "In a kdump capture kernel, the makedumpfile lines of Debian's kdump-tools (coroner-capture installed as "
       "makedumpfile):\n"
       "\n"
       "  coroner-capture --dump-dmesg /proc/vmcore /var/crash/STAMP/dmesg.STAMP\n"
       "  coroner-capture -F -c -d 31 /proc/vmcore > /var/crash/STAMP/dump-incomplete\n"
       "\n"
       "and later, to read the flattened dump:\n"
       "\n"
       "  coroner-capture -R dump < dump.STAMP\n"
       "\n"
       "Erase the payloads of the kernel keyring's keys while capturing (offsets made on the workstation; the "
       "profiles are random.conf, the random-number state, and keyring.conf):\n"
       "\n"
       "  coroner erase-offsets --config /usr/share/coroner/erase-profiles/keyring.conf -o keyring.offsets vmlinux\n"
       "  coroner-capture -z -d 31 --config keyring.offsets /proc/vmcore /var/crash/dump\n"
       "\n"
       "Filter and compress a full ELF vmcore again, in four threads:\n"
       "\n"
       "  coroner-capture -c -d 31 --num-threads 4 vmcore dump.d31\n"
       "\n"
       "Save a FreeBSD dump from its swap partition, then open it:\n"
       "\n"
       "  coroner-capture savecore /dev/ada0p3 /var/crash && coroner /var/crash/vmcore.0",
       {}},
      {"SEE ALSO", "coroner(1), makedumpfile(8), crash(8)", {}},
  };
  m.in_help = {"FILES", "SAVECORE", "EXIT STATUS"};
  return m;
}

}  // namespace coroner::capture
