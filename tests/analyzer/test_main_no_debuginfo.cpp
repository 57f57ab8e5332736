// `coroner DUMP` without its vmlinux -- none found by build-id, one of
// another kernel, or set aside by --no-debuginfo -- opens from the kernel's
// own kallsyms in the dump: what needs only symbols and memory answers as
// with the vmlinux, what needs types fails in one line, and the banner, sys
// and every JSON document say which (README "Without a vmlinux").
#include "tests/analyzer/coroner_run.hpp"
#include "tests/support/distro_dumps.hpp"

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

namespace coroner::test {

namespace {

// kdump and QEMU dumps of both architectures.
const std::vector<std::string> kDumps = {"x86_64/oops-kdump/d31", "x86_64/panic-qemu/kdump-zlib",
                                         "arm64/oops-kdump/d31", "arm64/panic-qemu/kdump-zlib"};

std::string build_id_of(const DumpCase& dump) { return dump.facts()["vmcoreinfo"]["BUILD-ID"].get<std::string>(); }

// coroner where no vmlinux can be found: an empty --debuginfo-dir, no
// debuginfod (and the fixtures' kernels are not under /usr/lib/debug).
class Isolated {
 public:
  Run run(const std::string& args) const {
    return run_coroner("--debuginfo-dir " + empty_.path.string() + " " + args, "", "DEBUGINFOD_URLS=");
  }
  std::string dir() const { return empty_.path.string(); }

 private:
  ScratchDir empty_{"no-debuginfo-empty"};
};

std::string script(const std::vector<std::string>& commands) {
  std::string args;
  for (const std::string& command : commands) args += " -x '" + command + "'";
  return args;
}

// The JSON Lines of a run of several commands, one document each.
std::vector<nlohmann::json> documents(const Run& run) {
  std::vector<nlohmann::json> docs;
  std::istringstream lines(run.out);
  for (std::string line; std::getline(lines, line);) docs.push_back(nlohmann::json::parse(line));
  return docs;
}

// The documents of `commands` with the vmlinux and with none to be found;
// both runs succeed, the one without it silently.
std::pair<std::vector<nlohmann::json>, std::vector<nlohmann::json>> with_and_without(
    const Isolated& isolated, const std::string& vmlinux, const std::string& dump,
    const std::vector<std::string>& commands) {
  const Run with = run_coroner("-s --output json" + script(commands) + " " + vmlinux + " " + dump, "");
  const Run without = isolated.run("-s --output json" + script(commands) + " " + dump);
  INFO(without.err);
  REQUIRE(with.status == 0);
  REQUIRE(without.status == 0);
  CHECK(without.err.empty());
  auto a = documents(with), b = documents(without);
  REQUIRE(a.size() == commands.size());
  REQUIRE(b.size() == commands.size());
  return {std::move(a), std::move(b)};
}

nlohmann::json without_label(nlohmann::json document) {
  document.erase("debuginfo");
  return document;
}

size_t line_count(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

}  // namespace

TEST_CASE("coroner DUMP with no vmlinux to find: sym, rd, log and sys answer as with the vmlinux",
          "[main][no-debuginfo]") {
  const Isolated isolated;
  for (const std::string& id : kDumps) {
    SECTION(id) {
      const DumpCase& dump = fixture_case(id);
      const std::string file = dump.files().front();
      // Addresses inside a function and inside a data object, from the
      // vmlinux; and inside the first function of .sched.text, whose address
      // __sched_text_start shares.
      const Run named = run_coroner("-s --output json -x 'sym panic' -x 'sym linux_banner' -x 'sym io_schedule_timeout' " +
                                    dump.vmlinux() + " " + file, "");
      REQUIRE(named.status == 0);
      const std::vector<nlohmann::json> found = documents(named);
      REQUIRE(found.size() == 3);
      const std::string inside_panic = fmt::format("{:#x}", hex_value(found[0]["address"]) + 4);
      const std::string inside_banner = fmt::format("{:#x}", hex_value(found[1]["address"]) + 9);
      const std::string inside_sched = fmt::format("{:#x}", hex_value(found[2]["address"]) + 20);

      const std::vector<std::string> commands = {
          "sys", "sym panic", "sym init_task", "sym jiffies", "sym linux_banner", "sym _stext", "sym init_uts_ns",
          "sym " + inside_panic, "sym " + inside_banner, "rd linux_banner 4", "rd -s init_task 2", "log",
          "sym " + inside_sched, "dis panic 8"};
      const auto [expected, got] = with_and_without(isolated, dump.vmlinux(), file, commands);
      for (size_t i = 0; i < commands.size(); ++i) {
        INFO(commands[i]);
        CHECK(expected[i]["debuginfo"] == "dwarf");
        CHECK(got[i]["debuginfo"] == "kallsyms");
        if (commands[i] != "sys") CHECK(without_label(got[i]) == without_label(expected[i]));
      }
      // sys: what VMCOREINFO, kallsyms and memory give; no kernel file.
      const nlohmann::json& sys = got[0];
      CHECK(sys["kernel"].is_null());
      if (dump.facts().contains("osrelease")) CHECK(sys["release"] == dump.facts()["osrelease"]);
      // With the layouts inferred from memory: the tasks, and the timekeeper's
      // date where VMCOREINFO has no CRASHTIME (a QEMU dump).
      for (const char* key : {"release", "version", "nodename", "machine", "cpus", "online_cpus", "uptime",
                              "load_average", "cpu_mhz", "tainted", "panic", "dumpfile", "format", "tasks", "date",
                              "memory"}) {
        INFO(key);
        CHECK(sys[key] == expected[0][key]);
      }
      CHECK_FALSE(sys["panic"].is_null());
      CHECK_FALSE(sys["tasks"].is_null());
      CHECK_FALSE(sys["date"].is_null());
      CHECK(sys["debuginfo_reason"] == "no vmlinux with build-id " + build_id_of(dump) + " found; looked in: " +
                                           isolated.dir() + " (.build-id/ and its files), /usr/lib/debug/.build-id/" +
                                           build_id_of(dump).substr(0, 2) + "/" + build_id_of(dump).substr(2) +
                                           ".debug, /usr/lib/debug/boot/vmlinux-*, not debuginfod "
                                           "(DEBUGINFOD_URLS is not set)");
      // drgn's run-time addresses, where facts.json has them.
      if (dump.facts().contains("symbols"))
        for (size_t i : {1, 2, 3, 4}) {
          const std::string name = commands[i].substr(4);
          CHECK(hex_value(got[i]["address"]) == hex_value(dump.facts()["symbols"][name]));
        }
      CHECK(got[7]["name"] == "panic");
      CHECK(got[7]["offset"] == 4);
      CHECK(got[8]["name"] == "linux_banner");
      CHECK(got[12]["name"] == "io_schedule_timeout");

      // The log, byte for byte, as text.
      const Run log_with = run_coroner("-s -x log " + dump.vmlinux() + " " + file, "");
      const Run log_without = isolated.run("-s -x log " + file);
      CHECK(log_without.status == 0);
      CHECK(log_without.out == log_with.out);
      if (dump.facts().contains("printk")) CHECK(got[11]["records"].size() == dump.facts()["printk"]["count"]);
    }
  }
}

TEST_CASE("coroner DUMP with no vmlinux: the banner and sys say so and what needs types not inferred fails in one line",
          "[main][no-debuginfo]") {
  const Isolated isolated;
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  const std::string file = dump.files().front();
  const Run shown = isolated.run("-x sys " + file);
  INFO(shown.err);
  CHECK(shown.status == 0);
  CHECK_THAT(shown.out, Catch::Contains("      KERNEL: (no vmlinux: symbols from the dump's kallsyms, types inferred "
                                        "from memory)  [TAINTED]\n"));
  CHECK_THAT(shown.out, Catch::Contains("  DEBUG INFO: kallsyms (no vmlinux: no vmlinux with build-id " +
                                        build_id_of(dump) + " found; looked in: " + isolated.dir()));
  CHECK_THAT(shown.out, Catch::Contains("     RELEASE: " + dump.facts()["osrelease"].get<std::string>() + "\n"));
  CHECK_THAT(shown.out, Catch::Contains("       PANIC: \"" + dump.facts()["oops_message"].get<std::string>()));

  // The types the kernel model reads are inferred; the rest are not there.
  const std::pair<std::string, std::string> failing[] = {
      {"ptype struct inode", file + ": types inferred from memory (no vmlinux): no type named 'struct inode'"},
      {"net", file + ": types inferred from memory (no vmlinux): no type named 'struct net'"},
      {"bt -l", "source lines need the vmlinux's DWARF"},
      {"files 1", "struct task_struct has no member 'fs'"}};
  for (const auto& [command, reason] : failing) {
    SECTION(command) {
      const Run failed = isolated.run("-s -x '" + command + "' " + file);
      CHECK(failed.status == 1);
      CHECK(failed.out.empty());
      CHECK(line_count(failed.err) == 1);
      CHECK_THAT(failed.err, Catch::StartsWith(command + ": "));
      CHECK_THAT(failed.err, Catch::Contains(reason));
    }
  }
}

TEST_CASE("coroner --no-debuginfo VMLINUX DUMP sets the vmlinux aside", "[main][no-debuginfo]") {
  const DumpCase& dump = fixture_case("arm64/oops-kdump/d31");
  const Run run = run_coroner("-s --output json --no-debuginfo -x sys -x 'sym panic' -x ps " + dump.vmlinux() + " " +
                              dump.files().front(), "");
  INFO(run.err);
  CHECK(run.status == 0);
  CHECK(run.err.empty());
  const std::vector<nlohmann::json> docs = documents(run);
  REQUIRE(docs.size() == 3);
  CHECK(docs[0]["debuginfo"] == "kallsyms");
  CHECK(docs[0]["kernel"].is_null());
  CHECK(docs[0]["release"] == dump.facts()["osrelease"]);
  CHECK(docs[0]["debuginfo_reason"] == "--no-debuginfo set " + dump.vmlinux() + " aside");
  CHECK(docs[1]["debuginfo"] == "kallsyms");
  CHECK(hex_value(docs[1]["address"]) == hex_value(dump.facts()["symbols"]["panic"]));
  CHECK(docs[2]["debuginfo"] == "kallsyms");
  CHECK(docs[2]["tasks"].size() >= dump.facts()["tasks"].size());
}

TEST_CASE("coroner VMLINUX DUMP with another kernel's vmlinux: refused with both build-ids, then opened from "
          "kallsyms", "[main][no-debuginfo]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  const DumpCase& other = fixture_case("arm64/oops-kdump/d31");
  const Run run = run_coroner("-s --output json -x sys -x 'sym init_task' " + other.vmlinux() + " " +
                              dump.files().front(), "");
  CHECK(run.status == 0);
  CHECK(run.err == "coroner: " + other.vmlinux() + " does not match " + dump.files().front() + ": build-id " +
                       build_id_of(other) + " in the kernel, " + build_id_of(dump) + " in the dump's VMCOREINFO; "
                       "opened without it (symbols from the dump's kallsyms, types inferred from its memory)\n");
  const std::vector<nlohmann::json> docs = documents(run);
  REQUIRE(docs.size() == 2);
  CHECK(docs[0]["debuginfo"] == "kallsyms");
  CHECK(docs[0]["debuginfo_reason"] == other.vmlinux() + " is another kernel's (build-id " + build_id_of(other) +
                                           ", the dump's is " + build_id_of(dump) + ")");
  CHECK(docs[0]["release"] == dump.facts()["osrelease"]);
  CHECK(hex_value(docs[1]["address"]) == hex_value(dump.facts()["symbols"]["init_task"]));
}

TEST_CASE("coroner DUMP of a kernel whose VMCOREINFO does not locate kallsyms (before Linux 6.0): the tables "
          "found in its image answer as VMCOREINFO's", "[main][no-debuginfo]") {
  // The d31 dump with its VMCOREINFO's kallsyms_names entry renamed, as a
  // kernel before 6.0 writes it (without any kallsyms entry).
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  std::string bytes = file_contents(dump.files().front());
  const size_t at = bytes.find("SYMBOL(kallsyms_names)=");
  REQUIRE(at != std::string::npos);
  bytes.replace(at, 22, "SYMBOL(kallsyms_nameX)");
  REQUIRE(bytes.find("SYMBOL(kallsyms_names)=") == std::string::npos);
  const ScratchDir work("no-debuginfo-old-kernel");
  const std::string old_kernel = (work.path / "d31-without-kallsyms").string();
  write_file_contents(old_kernel, bytes);

  const Isolated isolated;
  const std::string commands = " -x log -x 'sym panic' -x 'sym init_task' -x 'sym schedule' ";
  const Run located = isolated.run("-s" + commands + dump.files().front());
  const Run scanned = isolated.run("-s" + commands + old_kernel);
  INFO(scanned.err);
  CHECK(scanned.status == 0);
  CHECK(scanned.out == located.out);
  CHECK_THAT(scanned.out,
             Catch::Contains(fmt::format("{:x} (D) init_task\n", hex_value(dump.facts()["symbols"]["init_task"]))));
}

// Debian's own kernels (tests/distro): kallsyms, BTF and ORC in the dump
// stand in for the -dbg vmlinux.
namespace {

// A task's trace as the two must agree on: the frames the stack holds
// (inline frames need DWARF), each with its pc, sp and symbol. arm64's frame
// records give each frame's frame pointer, not the sp DWARF's CFI gives:
// there the sp is left out (with_sp false). Where kallsyms cannot tell
// which of several names at one address vmlinux prefers (`aliases`), the
// offset from that address stands for the symbol.
nlohmann::json physical_trace(const nlohmann::json& task, bool with_sp, bool aliases) {
  nlohmann::json frames = nlohmann::json::array();
  for (const auto& frame : task["frames"])
    if (!frame.value("inlined", false))
      frames.push_back({frame["pc"], with_sp ? frame["sp"] : nlohmann::json(),
                        aliases ? frame["offset"] : frame["symbol"]});
  return {task["pid"], task["task"], task["cpu"], task["command"], frames};
}

nlohmann::json physical_traces(const nlohmann::json& tasks, bool with_sp, bool aliases) {
  nlohmann::json traces = nlohmann::json::array();
  for (const auto& task : tasks) traces.push_back(physical_trace(task, with_sp, aliases));
  return traces;
}

// The modules as both see them: where the .ko file was looked for differs
// (beside the vmlinux, or nowhere).
nlohmann::json loaded_modules(const nlohmann::json& mod) {
  nlohmann::json modules = nlohmann::json::array();
  for (const auto& m : mod["modules"]) modules.push_back({m["name"], m["module"], m["base"], m["size"]});
  return modules;
}

// What one kernel's check leaves out: arm64 frames' sp (above), and on a
// kernel without data symbols in kallsyms the globals no code reference
// finds (shadow_timekeeper: sys's date when VMCOREINFO has no CRASHTIME).
struct DistroCheck {
  bool frame_sp = true;
  std::vector<std::string> sys_unknown;
  // kallsyms name the data pointers point at ("<init_css_set>"): without
  // data symbols those names are left out of the comparison.
  bool data_names = true;
  // The kernel has functions with several global names at one address
  // (5.10's asm_call_on_stack and asm_call_irq_on_stack), which kallsyms
  // lists alike and vmlinux tells apart by ELF type.
  bool aliases = false;
};

std::string without_data_names(const std::string& text) {
  return std::regex_replace(text, std::regex(" <[^>\n]*>"), "");
}

void check_distro_kernel(const std::string& name, const DistroCheck& check = {}) {
  const DistroKernel kernel = distro_kernel(name);
  const Isolated isolated;
  const std::vector<std::string> commands = {"sys", "ps", "log", "mod", "sym schedule", "bt -a", "foreach bt"};
  const Run with = run_coroner("-s --output json" + script(commands) + " " + kernel.vmlinux() + " " + kernel.dump(), "");
  const Run without = isolated.run("-s --output json" + script(commands) + " " + kernel.dump());
  INFO(without.err);
  REQUIRE(with.status == 0);
  REQUIRE(without.status == 0);
  const auto a = documents(with), b = documents(without);
  REQUIRE(a.size() == commands.size());
  REQUIRE(b.size() == commands.size());
  for (size_t i : {0, 1, 2, 3, 4}) {
    CHECK(a[i]["debuginfo"] == "dwarf");
    CHECK(b[i]["debuginfo"] == "btf+kallsyms");
  }
  nlohmann::json sys_a = without_label(a[0]), sys_b = without_label(b[0]);
  CHECK(sys_b["kernel"] == nullptr);
  for (const char* key : {"kernel", "kernel_found_by", "debuginfo_reason"}) sys_a.erase(key), sys_b.erase(key);
  for (const std::string& key : check.sys_unknown) {
    CHECK(sys_b[key] == nullptr);
    sys_a.erase(key), sys_b.erase(key);
  }
  if (!check.sys_unknown.empty()) sys_a.erase("problems"), sys_b.erase("problems");
  CHECK(sys_a == sys_b);
  for (size_t i : {1, 2, 4}) {
    INFO(commands[i]);
    CHECK(without_label(a[i]) == without_label(b[i]));
  }
  CHECK(loaded_modules(a[3]) == loaded_modules(b[3]));
  CHECK(physical_traces(a[5], check.frame_sp, check.aliases) == physical_traces(b[5], check.frame_sp, check.aliases));
  CHECK(physical_traces(a[6], check.frame_sp, check.aliases) == physical_traces(b[6], check.frame_sp, check.aliases));
  CHECK(b[6].size() == a[1]["tasks"].size());

  // drgn's facts, read with the -dbg vmlinux: the release, every task, the modules.
  const nlohmann::json& facts = kernel.facts();
  CHECK(b[0]["release"] == facts["release"]);
  std::set<std::pair<int64_t, std::string>> ours, drgns;
  for (const auto& task : b[1]["tasks"])
    if (task["pid"].get<int64_t>() != 0) ours.emplace(task["pid"].get<int64_t>(), task["comm"].get<std::string>());
  for (const auto& task : facts["tasks"]) drgns.emplace(task["pid"].get<int64_t>(), task["comm"].get<std::string>());
  CHECK(ours == drgns);
  std::vector<std::string> modules;
  for (const auto& m : b[3]["modules"]) modules.push_back(m["name"]);
  std::sort(modules.begin(), modules.end());
  CHECK(nlohmann::json(modules) == facts["modules"]);

  // The triage report's crash signature is the vmlinux's.
  const Run triage_with = run_coroner("triage --format json " + kernel.vmlinux() + " " + kernel.dump(), "");
  const Run triage_without =
      run_coroner("triage --format json --debuginfo-dir " + isolated.dir() + " " + kernel.dump(), "", "DEBUGINFOD_URLS=");
  REQUIRE(triage_without.status == 0);
  // (the same hash, title and frames; with DWARF the frames also list the inline ones, which the hash skips)
  nlohmann::json signature = nlohmann::json::parse(triage_without.out)["signature"];
  nlohmann::json dwarf_signature = nlohmann::json::parse(triage_with.out)["signature"];
  nlohmann::json& dwarf_frames = dwarf_signature["frames"];
  dwarf_frames.erase(std::remove_if(dwarf_frames.begin(), dwarf_frames.end(),
                                    [](const nlohmann::json& frame) { return frame["inlined"].get<bool>(); }),
                     dwarf_frames.end());
  CHECK(signature == dwarf_signature);

  // Types from BTF: struct, p, list and task print as with DWARF.
  const std::string first = facts["tasks"][0]["task"].get<std::string>();
  const std::vector<std::string> typed = {"struct task_struct.pid,comm " + first, "p init_uts_ns",
                                          "list task_struct.tasks -s task_struct.pid -h " +
                                              facts["symbols"]["init_task"].get<std::string>(),
                                          "task 1", "whatis struct list_head"};
  const Run typed_with = run_coroner("-s" + script(typed) + " " + kernel.vmlinux() + " " + kernel.dump(), "");
  const Run typed_without = isolated.run("-s" + script(typed) + " " + kernel.dump());
  INFO(typed_without.err);
  CHECK(typed_without.status == 0);
  if (check.data_names) CHECK(typed_without.out == typed_with.out);
  else CHECK(without_data_names(typed_without.out) == without_data_names(typed_with.out));
  CHECK_THAT(typed_without.out, Catch::Contains("release = \"" + facts["release"].get<std::string>()));
}

}  // namespace

TEST_CASE("Debian 6.1 amd64 without its vmlinux: what its -dbg vmlinux answers", "[main][no-debuginfo][distro]") {
  check_distro_kernel("6.1-amd64");
}

TEST_CASE("Debian 6.12 amd64 without its vmlinux: what its -dbg vmlinux answers", "[main][no-debuginfo][distro]") {
  check_distro_kernel("6.12-amd64");
}

// Linux 5.10: VMCOREINFO does not locate kallsyms (the tables are found in
// the image), and its BTF has no variables at all.
TEST_CASE("Debian 5.10 amd64 without its vmlinux: what its -dbg vmlinux answers", "[main][no-debuginfo][distro]") {
  check_distro_kernel("5.10-amd64", {.aliases = true});
}

// A module's types: the kernel's copy of its split BTF (btf_modules), read
// as pahole reads the .ko's .BTF on top of the vmlinux's.
TEST_CASE("Debian amd64 kernels without their vmlinux: a module's types come from its BTF in memory",
          "[main][no-debuginfo][distro]") {
  for (const char* name : {"6.1-amd64", "6.12-amd64"}) {
    SECTION(name) {
      const DistroKernel kernel = distro_kernel(name);
      const Isolated isolated;
      const Run run = isolated.run("-s -x mod -x 'struct -o fw_cfg_sysfs_entry' " + kernel.dump());
      INFO(run.err);
      REQUIRE(run.status == 0);
      CHECK_THAT(run.out, Catch::Contains("  qemu_fw_cfg  "));
      CHECK_THAT(run.out, Catch::Contains("; symbols and BTF from memory)"));
      // pahole's members and offsets of the same struct, from the package's .ko.
      const std::string ko = run_command("find " + kernel.dir.string() + "/root -name qemu_fw_cfg.ko | head -1");
      REQUIRE_FALSE(ko.empty());
      const std::string pahole = run_command("pahole -F btf --btf_base " + kernel.vmlinux() +
                                             " -C fw_cfg_sysfs_entry " + ko.substr(0, ko.size() - 1));
      std::vector<std::pair<std::string, std::string>> expected, ours;
      const std::regex pahole_member(R"(\s([A-Za-z_][A-Za-z0-9_]*)(\[\d+\])?;\s+/\*\s+(\d+)\s)");
      for (std::sregex_iterator it(pahole.begin(), pahole.end(), pahole_member), end; it != end; ++it)
        expected.emplace_back((*it)[1], (*it)[3]);
      const std::regex our_member(R"(\[(\d+)\] [^;\n]*?([A-Za-z_][A-Za-z0-9_]*)(\[\d+\])?;)");
      for (std::sregex_iterator it(run.out.begin(), run.out.end(), our_member), end; it != end; ++it)
        ours.emplace_back((*it)[2], (*it)[1]);
      CHECK(expected.size() == 5);
      CHECK(ours == expected);
    }
  }
}

TEST_CASE("Debian 6.1 amd64 with the 6.12 kernel's vmlinux: refused with both build-ids, then opened from its BTF",
          "[main][no-debuginfo][distro]") {
  const DistroKernel kernel = distro_kernel("6.1-amd64"), other = distro_kernel("6.12-amd64");
  const Run run = run_coroner("-s --output json -x sys -x ps " + other.vmlinux() + " " + kernel.dump(), "");
  REQUIRE(run.status == 0);
  CHECK_THAT(run.err, Catch::StartsWith("coroner: " + other.vmlinux() + " does not match " + kernel.dump() +
                                        ": build-id "));
  CHECK_THAT(run.err, Catch::Matches(".* build-id [0-9a-f]{40} in the kernel, [0-9a-f]{40} in the dump's VMCOREINFO; "
                                     "opened without it \\(symbols from the dump's kallsyms, types from its BTF\\)\n"));
  CHECK(line_count(run.err) == 1);
  const std::vector<nlohmann::json> docs = documents(run);
  REQUIRE(docs.size() == 2);
  CHECK(docs[1]["debuginfo"] == "btf+kallsyms");
  CHECK(docs[0]["release"] == kernel.facts()["release"]);
  CHECK(docs[1]["tasks"].size() >= kernel.facts()["tasks"].size());
}

// Debian builds its arm64 kernels without CONFIG_KALLSYMS_ALL: their kallsyms
// hold functions only. The BTF is found by scanning the image's read-only
// data, the globals from code and memory (analyzer/os/linux/data_symbols.hpp),
// and then everything answers as with the vmlinux.
TEST_CASE("Debian 6.1 arm64 without its vmlinux: what its -dbg vmlinux answers", "[main][no-debuginfo][distro]") {
  check_distro_kernel("6.1-arm64", {.frame_sp = false, .data_names = false});
}

TEST_CASE("Debian 6.1 arm64 without its vmlinux: sym says how a global kallsyms lack was found",
          "[main][no-debuginfo][distro]") {
  const DistroKernel kernel = distro_kernel("6.1-arm64");
  const Isolated isolated;
  const Run run = isolated.run("-s --output json -x 'sym init_task' -x 'sym init_uts_ns' " + kernel.dump());
  INFO(run.err);
  REQUIRE(run.status == 0);
  const auto docs = documents(run);
  REQUIRE(docs.size() == 2);
  CHECK(docs[0]["address"] == kernel.facts()["symbols"]["init_task"]);
  CHECK(docs[1]["address"] == kernel.facts()["symbols"]["init_uts_ns"]);
  CHECK_THAT(docs[0]["found_by"].get<std::string>(), Catch::Contains("idle task"));
}

// The fixture kernels have no BTF: the layouts of the structures the Linux
// model reads are inferred from memory (analyzer/os/linux/layout_inference),
// and ps, mod and the traces answer as with the vmlinux.
TEST_CASE("coroner DUMP with neither vmlinux nor BTF: ps, mod, bt -a and foreach bt answer as with the vmlinux",
          "[main][no-debuginfo]") {
  const Isolated isolated;
  std::vector<std::string> dumps = kDumps;
  for (const char* more : {"x86_64/oops-kdump-la57/d31", "arm64-16k/oops-kdump/d31", "arm64-16k/panic-qemu/kdump-zlib"})
    dumps.push_back(more);
  for (const std::string& id : dumps) {
    SECTION(id) {
      const DumpCase& dump = fixture_case(id);
      const std::string file = dump.files().front();
      const std::vector<std::string> commands = {"ps", "mod", "bt -a", "foreach bt"};
      const auto [a, b] = with_and_without(isolated, dump.vmlinux(), file, commands);
      CHECK(b[0]["debuginfo"] == "kallsyms");
      CHECK(without_label(a[0]) == without_label(b[0]));
      CHECK(b[1]["modules"].size() == 1);
      CHECK(loaded_modules(a[1]) == loaded_modules(b[1]));
      // The build-id, from the notes the kernel keeps for sysfs.
      CHECK(b[1]["modules"][0]["build_id"] == a[1]["modules"][0]["build_id"]);
      CHECK_FALSE(b[1]["modules"][0]["build_id"].get<std::string>().empty());
      // arm64's frame records give each frame's frame pointer, not CFI's sp.
      const bool with_sp = dump.arch_dir.ends_with("x86_64");
      CHECK(physical_traces(a[2], with_sp, false) == physical_traces(b[2], with_sp, false));
      CHECK(physical_traces(a[3], with_sp, false) == physical_traces(b[3], with_sp, false));
      CHECK(b[3].size() == b[0]["tasks"].size());

      // drgn's facts: every task, its parent, comm and task_struct.
      if (dump.facts().contains("tasks")) {
        std::map<int64_t, nlohmann::json> ours;
        for (const auto& task : b[0]["tasks"]) ours[task["pid"].get<int64_t>()] = task;
        for (const auto& expected : dump.facts()["tasks"]) {
          INFO("PID " << expected["pid"]);
          REQUIRE(ours.count(expected["pid"].get<int64_t>()));
          const auto& task = ours.at(expected["pid"].get<int64_t>());
          CHECK(task["ppid"] == expected["ppid"]);
          CHECK(task["comm"] == expected["comm"]);
          CHECK(task["task"] == expected["task"]);
        }
        // The module where drgn saw it, and (a kdump dump, written at the
        // oops) a task whose trace has the functions the kernel's own oops
        // trace named, in its order.
        CHECK(b[1]["modules"][0]["name"] == dump.facts()["modules"][0]["name"]);
        CHECK(hex_value(b[1]["modules"][0]["base"]) == hex_value(dump.facts()["modules"][0]["base"]));
        auto has_oops_trace = [&](const nlohmann::json& task) {
          std::vector<std::string> functions;
          for (const auto& frame : task["frames"]) functions.push_back(frame["function"]);
          auto at = functions.begin();
          for (const auto& expected : dump.facts()["console_call_trace"]) {
            at = std::find(at, functions.end(), expected.get<std::string>());
            if (at == functions.end()) return false;
          }
          return true;
        };
        if (dump.scenario.starts_with("oops-kdump")) CHECK(std::any_of(b[2].begin(), b[2].end(), has_oops_trace));
        // The inferred members read what DWARF's do.
        const std::string task = dump.facts()["tasks"][0]["task"].get<std::string>();
        const std::string members =
            "struct task_struct.pid,tgid,comm,flags,stack,mm,real_parent,group_leader,exit_state,__state " + task;
        const Run typed_with = run_coroner("-s -x '" + members + "' " + dump.vmlinux() + " " + file, "");
        const Run typed_without = isolated.run("-s -x '" + members + "' " + file);
        CHECK(typed_without.status == 0);
        CHECK(typed_without.out == typed_with.out);
      }
    }
  }
}

// A damaged dump: init_task's comm overwritten. The task part of the
// inference fails and is named in one line by what needs it; the modules,
// inferred without tasks, still answer; the run ends with status 1.
TEST_CASE("coroner DUMP with neither vmlinux nor BTF, init_task damaged: ps fails in one line naming what was not "
          "found, mod answers", "[main][no-debuginfo]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/vmcore");
  std::string bytes = file_contents(dump.files().front());
  size_t replaced = 0;
  for (size_t at = bytes.find(std::string("swapper/0\0", 10)); at != std::string::npos;
       at = bytes.find(std::string("swapper/0\0", 10), at + 1), ++replaced)
    bytes[at + 1] = 'X';
  REQUIRE(replaced >= 1);
  const ScratchDir work("no-debuginfo-damaged");
  const std::string damaged = (work.path / "vmcore-init-task-damaged").string();
  write_file_contents(damaged, bytes);
  bytes.clear();
  const Isolated isolated;
  const Run run = isolated.run("-s -x ps -x 'sym init_task' " + damaged);
  CHECK(run.status == 1);
  CHECK(line_count(run.err) == 1);
  CHECK_THAT(run.err, Catch::StartsWith("ps: " + damaged + ": types inferred from memory (no vmlinux; not inferred: "
                                        "task_struct: task_struct.comm not found in memory: no \"swapper\" in "
                                        "init_task)"));
  // What needs no types still answers.
  CHECK_THAT(run.out, Catch::Contains("(D) init_task\n"));
  // The modules need no task: mod lists fx_crash where the guest loaded it.
  const Run mod = isolated.run("-s --output json -x mod " + damaged);
  INFO(mod.err);
  REQUIRE(mod.status == 0);
  const nlohmann::json modules = nlohmann::json::parse(mod.out)["modules"];
  REQUIRE(modules.size() == 1);
  CHECK(modules[0]["name"] == dump.facts()["modules"][0]["name"]);
  CHECK(hex_value(modules[0]["base"]) == hex_value(dump.facts()["modules"][0]["base"]));
}

}  // namespace coroner::test
