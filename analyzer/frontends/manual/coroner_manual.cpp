#include "analyzer/frontends/manual/coroner_manual.hpp"

#include "commands/command.hpp"

namespace coroner::frontends {

namespace {

manual::Section commands_section() {
  manual::Section section{"COMMANDS",
                          "crash's commands, with its options and columns. In the crash> shell, help COMMAND shows "
                          "the same text.",
                          {}};
  for (const commands::Command& command : commands::all_commands())
    section.entries.push_back({command.name + " - " + command.summary, command.usage});
  return section;
}

}  // namespace

manual::ProgramManual coroner_manual() {
  manual::ProgramManual m;
  m.name = "coroner";
  m.section = 1;
  m.summary = "analyze a Linux kernel crash dump with crash's commands";
  m.synopsis = {
      "[-s] [-i FILE] [-x COMMAND]... [--mod-path DIR] [--debuginfo-dir DIR] [--no-debuginfo] [--plugin PATH]... "
      "[--output text|json] VMLINUX DUMP [DUMP...]",
      "[-s] [-i FILE] [-x COMMAND]... [--debuginfo-dir DIR] [--no-debuginfo] [--plugin PATH]... [--output text|json] "
      "DUMP",
      "--build-index [--background] VMLINUX",
      "triage [--format text|markdown|json|html] [--sections LIST] [-o FILE] [--mod-path DIR] [--debuginfo-dir DIR] "
      "[VMLINUX] DUMP [DUMP...]",
      "fleet ingest [--db URL] [--batch N] [--format text|json] REPORT.json...|-",
      "fleet report [--db URL] [--since T] [--format text|json|html] [-o FILE]",
      "fleet show [--db URL] [--since T] [--format text|json] SIGNATURE|DUMP",
      "gdbserver [--listen [HOST:]PORT | --stdio] [--mod-path DIR] VMLINUX DUMP [DUMP...]",
      "erase-offsets --config FILE [-o OFFSETS] [--mod-path DIR]... VMLINUX",
  };
  m.description =
      "Opens a crash dump (ELF /proc/vmcore, QEMU dump-guest-memory, kdump-compressed, flattened, or all files "
      "of a split dump) with the kernel's debug info and answers crash's commands: in the crash> shell when "
      "standard input is a terminal, else from standard input, one command per line, exiting at its end. "
      "VMLINUX and DUMP may be zstd, gzip or xz compressed. With no arguments coroner opens its bundled sample "
      "dump. A FreeBSD minidump (vmcore.N, .zst, .gz, or a dump device or its image; info.N read from beside it) "
      "opens alone, without a kernel file: sys, log, rd, vtop and search answer from the dump itself. A Linux "
      "dump whose vmlinux is not found by build-id, or is given but is another kernel's (refused, naming both "
      "build-ids), opens without debug info: symbols from the kernel's own kallsyms in the dump (Linux 6.0 and "
      "later: VMCOREINFO locates it), types from the kernel's BTF in the dump when it has one "
      "(CONFIG_DEBUG_INFO_BTF, as distribution kernels do), frames from its ORC tables (x86_64) or frame "
      "records (arm64). A kernel whose kallsyms hold functions only (no CONFIG_KALLSYMS_ALL, as Debian's "
      "arm64 kernels) has its BTF found by scanning its read-only data and the globals ps and bt need "
      "(init_task, the per-CPU areas, modules, ...) found from code and memory and checked; sym NAME says how. "
      "With BTF, ps, bt, task, struct, p and the rest answer as with the vmlinux, without "
      "inline frames, source lines or locals; without it sys, log, sym, rd and dis answer and commands that "
      "need types fail in one line saying so. The banner, sys's KERNEL line and every JSON document "
      "(\"debuginfo\": \"dwarf\", \"btf+kallsyms\", \"kallsyms\") say which.";
  m.options = {
      {"-s", "", "silent: no banner (for scripts)"},
      {"-i", "FILE", "run the commands in FILE, one per line, first (crash's input file); then the shell or "
                     "standard input"},
      {"-x, --command", "COMMAND", "run COMMAND and exit; repeatable, the commands run in order (after -i)"},
      {"--output", "text|json",
       "json: every command prints one JSON document whose keys are crash's column names in lower case; "
       "several commands print JSON Lines (one compact document per line)"},
      {"--mod-path", "DIR", "where to look for module debug info (.ko files); repeatable (erase-offsets too, for [MODULE] sections)"},
      {"--debuginfo-dir", "DIR",
       "with DUMP alone: where to look first for the vmlinux whose GNU build-id the dump's VMCOREINFO names, "
       "as DIR/.build-id/xx/rest.debug or a file in DIR; repeatable. Then /usr/lib/debug/.build-id, "
       "/usr/lib/debug/boot/vmlinux-*, and the debuginfod servers of DEBUGINFOD_URLS (cached under "
       "DEBUGINFOD_CACHE_PATH); sys's KERNEL line says where it was found"},
      {"--no-debuginfo", "",
       "open a Linux dump from its kallsyms and BTF even when VMLINUX is given or found: what a session "
       "without the debug vmlinux can answer"},
      {"--plugin", "PATH",
       "load the plugin PATH (a shared object, docs/plugins.md) besides those of $CORONER_PLUGIN_PATH, "
       "~/.local/lib/coroner/plugins and the installed plugin directory; repeatable"},
      {"--list-plugins", "", "list the plugins loaded at start (NAME VERSION SHARED OBJECT COMMANDS) and exit"},
      {"--build-index", "VMLINUX",
       "build the caches that make a start fast (DWARF name index, symbol table) and exit"},
      {"--background", "", "with --build-index: at low priority (what a session without caches starts)"},
      {"triage", "",
       "write a triage report of the dump (verdict, crash signature, crashing backtrace, registers, log, "
       "modules, hung and active tasks, memory, run queues) and exit 0 when one was written, also a partial one. "
       "Without VMLINUX the debug vmlinux is looked for by build-id (--debuginfo-dir, /usr/lib/debug, "
       "debuginfod) and release; without one the report holds what VMCOREINFO and the log give"},
      {"--format", "text|markdown|json|html",
       "triage: the report's form; json follows docs/triage-schema.json, html is one self-contained page; "
       "fleet: text, json, or (report) one self-contained HTML page"},
      {"--sections", "LIST",
       "triage: the comma-separated sections besides the verdict and signature: backtrace, registers, log, "
       "modules, hung, active, memory, runq, checks (the plugins' triage checks), or all (the default)"},
      {"-o", "FILE", "triage, fleet report: write the report to FILE instead of standard output; erase-offsets: the offsets file"},
      {"fleet", "",
       "keep a fleet's triage reports in a database and group them by crash signature (docs/fleet.md): ingest "
       "stores reports of coroner triage --format json (-: one per line of standard input), one row per dump (the same crash in another dump format "
       "or ingested again adds nothing); report groups the dumps by signature (count, hosts, first and last seen, "
       "kernel releases, frames, an example dump); show lists a signature's dumps or prints a dump's report"},
      {"--db", "URL",
       "fleet: postgresql://... (libpq's URI) or an SQLite file (PATH or sqlite:PATH); default $CORONER_FLEET_DB, "
       "else coroner-fleet.db in the current directory"},
      {"--since", "T",
       "fleet: only dumps that crashed at or after T: seconds since the epoch, YYYY-MM-DD, "
       "YYYY-MM-DDTHH:MM:SSZ, or a span back from now (12h, 30d, 2w)"},
      {"--batch", "N", "fleet ingest: reports per transaction (default 1000)"},
      {"erase-offsets", "",
       "resolve a makedumpfile filter config (makedumpfile.conf(5): erase SYMBOL[.member...] [size N|size "
       "SYMBOL|nullify], for ... in ARRAY | STRUCT via MEMBER | LIST_HEAD within STRUCT:MEMBER ... endfor, "
       "nested; [vmlinux] and [MODULE] sections, a module's types from MODULE.ko under --mod-path or VMLINUX's "
       "folder; coroner's extensions: for ... in RB_ROOT within STRUCT:MEMBER, for ... in POINTER as "
       "[MODULE:]STRUCT, for ... in POINTER count INTEGER, for ... if POINTER is [MODULE:]SYMBOL...) against "
       "VMLINUX's DWARF into the erase offsets file that coroner-capture --config reads in a capture kernel, "
       "which has no debug info. Ready-made configs (random.conf, keyring.conf, dm-crypt.conf): "
       "share/coroner/erase-profiles (docs/capture.md)"},
      {"--config", "FILE", "erase-offsets: the makedumpfile filter config"},
      {"gdbserver", "",
       "serve the dump to gdb or LLDB over the gdb remote protocol instead of answering commands: every task "
       "is a thread (each CPU's active task first, the crashing one selected), with the registers the dump "
       "saved or the switched-out ones (an arm64 CPU stopped inside the exception vectors, which gdb cannot unwind, "
       "starts at the first frame it can); memory reads through the page tables (a page the dump lacks is "
       "\"Cannot access memory\"); vmlinux is placed by the KASLR offset (qOffsets) and each module with its "
       ".ko by the library list, so `gdb vmlinux -ex 'target remote | coroner gdbserver --stdio vmlinux "
       "vmcore'` needs nothing typed. Read only: writes, breakpoints and resuming are refused"},
      {"--stdio", "", "with gdbserver: speak the protocol on standard input and output (gdb's target remote | ...)"},
      {"--listen", "[HOST:]PORT",
       "with gdbserver: listen on TCP (default 127.0.0.1:1234; loopback unless HOST says otherwise), one "
       "client at a time, the next after it leaves"},
      {"-h, --help", "", "this text"},
      {"--version", "", "the version"},
  };
  m.sections = {
      commands_section(),
      {"EXIT STATUS",
       "0 when every command succeeded; 1 when a command failed (each failure is one line on standard error "
       "naming the command) or the dump cannot be opened; 2 for a bad command line.",
       {}},
      {"ENVIRONMENT",
       "CORONER_CACHE_DIR: where decompressed inputs and the symbol caches are kept (default "
       "~/.cache/coroner).\n"
       "\n"
       "CORONER_BACKGROUND_INDEX=0: a session without caches does not start coroner --build-index when it ends.\n"
       "\n"
       "DEBUGINFOD_URLS, DEBUGINFOD_CACHE_PATH: the debuginfod servers a DUMP given alone fetches its vmlinux from "
       "by build-id (last, after --debuginfo-dir and /usr/lib/debug), and where libdebuginfod keeps the file.\n"
       "\n"
       "CORONER_FLEET_DB: coroner fleet's database when --db is not given.",
       {}},
      {"EXAMPLES",
       "A report from a script, one JSON document per line:\n"
       "\n"
       "  coroner -s --output json -x sys -x bt -x mod vmlinux vmcore\n"
       "\n"
       "crash's way, commands on standard input:\n"
       "\n"
       "  printf 'sys\\nbt -a\\nmod\\n' | coroner -s vmlinux vmcore\n"
       "\n"
       "A Linux dump without its debug vmlinux (symbols from the dump's kallsyms, types from its BTF):\n"
       "\n"
       "  coroner -s -x sys -x log -x ps -x 'bt -a' vmcore\n"
       "\n"
       "A FreeBSD minidump, as savecore left it, without a kernel file:\n"
       "\n"
       "  coroner -s -x sys -x log /var/crash/vmcore.0\n"
       "\n"
       "Triage a dump and keep the report in the fleet database, then group the fleet's crashes:\n"
       "\n"
       "  coroner triage --format json -o report.json vmlinux vmcore\n"
       "  coroner fleet ingest --db fleet.db report.json\n"
       "  coroner fleet report --db fleet.db --since 30d --format html -o fleet.html\n"
       "\n"
       "Erase secrets at capture time: offsets made on a workstation, used in the capture kernel:\n"
       "\n"
       "  coroner erase-offsets --config makedumpfile.conf -o offsets vmlinux\n"
       "  coroner-capture -c -d 31 --config offsets /proc/vmcore /var/crash/dump",
       {}},
      {"SEE ALSO", "coroner-capture(8), crash(8), makedumpfile(8), drgn(1)", {}},
  };
  m.in_help = {"EXIT STATUS", "ENVIRONMENT"};
  for (const commands::Command& command : commands::all_commands()) m.command_words.push_back(command.name);
  return m;
}

}  // namespace coroner::frontends
