// coroner triage's report on every fixture dump: its JSON validates against
// docs/triage-schema.json with a real validator (Debian's
// python3-jsonschema) and names what facts.json says crashed -- the task,
// fx_crash_level3 with its source line, the module fx_crash, the panic or
// oops line; without the vmlinux it still gives the kind, the panic line,
// the release, the log tail and the same signature. The text and markdown
// forms and the command line (exit status, one-line errors).
#include "analyzer/frontends/triage/triage_render.hpp"
#include "analyzer/os/linux/tasks.hpp"
#include "tests/analyzer/frontends/triage/triage_fixtures.hpp"
#include "tests/commands/dump_editor.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace coroner::test {

namespace {

using frontends::triage::ReportFrame;
using frontends::triage::TriageReport;

// Validates every JSON file of `dir` against the schema in one validator run.
void check_valid_against_schema(const fs::path& dir) {
  const fs::path schema = fs::path(CORONER_SOURCE_DIR) / "docs" / "triage-schema.json";
  const std::string script = fmt::format(
      "import json, pathlib, jsonschema\n"
      "schema = json.load(open('{}'))\n"
      "jsonschema.Draft202012Validator.check_schema(schema)\n"
      "validator = jsonschema.Draft202012Validator(schema)\n"
      "for path in sorted(pathlib.Path('{}').glob('*.json')):\n"
      "    for error in validator.iter_errors(json.load(open(path))):\n"
      "        raise SystemExit(f'{{path.name}}: {{error.json_path}}: {{error.message}}')\n"
      "print('valid')\n",
      schema.string(), dir.string());
  write_file_contents(dir / "validate.py", script);
  CHECK(run_command("python3 " + (dir / "validate.py").string()) == "valid\n");
}

std::string file_name(const std::string& id) {
  std::string name = id;
  std::replace(name.begin(), name.end(), '/', '_');
  return name;
}

}  // namespace

TEST_CASE("triage JSON of every fixture dump validates against the schema and names the crash", "[triage][facts]") {
  const fs::path dir = cache_dir() / "triage-json";
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      const nlohmann::json& facts = dump.facts();
      const TriageReport report = triage_report(dump);
      const nlohmann::json json = frontends::triage::report_json(report);
      write_file_contents(dir / (file_name(dump.id) + ".json"), json.dump(2));
      INFO(json.dump(2).substr(0, 4000));
      CHECK(json["with_vmlinux"] == true);
      CHECK(json["verdict"]["panic_line"] == expected_panic_line(dump));
      CHECK(json["verdict"]["kind"] == (dump.scenario == "panic-qemu" ? "panic" : "oops"));
      CHECK(json["verdict"]["crash_cpu"] == facts["console_crash"]["cpu"]);
      const nlohmann::json& task = json["verdict"]["crashing_task"];
      CHECK(task["pid"] == facts["console_crash"]["pid"]);
      CHECK(task["comm"] == facts["console_crash"]["comm"]);
      // fx_crash_level3 on the crashing stack, with its source line.
      auto level3 = std::find_if(task["stack"].begin(), task["stack"].end(),
                                 [](const nlohmann::json& f) { return f["function"] == "fx_crash_level3"; });
      REQUIRE(level3 != task["stack"].end());
      CHECK((*level3)["module"] == "fx_crash");
      CHECK((*level3)["file"].get<std::string>().ends_with("fx_crash.c"));
      CHECK((*level3)["line"] > 0);
      // An inline frame (pde_write in proc_reg_write) is kept.
      CHECK(std::any_of(task["stack"].begin(), task["stack"].end(),
                        [](const nlohmann::json& f) { return f["function"] == "pde_write" && f["inlined"] == true; }));
      // The module fx_crash: out of tree, owner of the crashing frames.
      auto module = std::find_if(json["modules"].begin(), json["modules"].end(),
                                 [](const nlohmann::json& m) { return m["name"] == "fx_crash"; });
      REQUIRE(module != json["modules"].end());
      CHECK((*module)["crashing"] == true);
      CHECK((*module)["flags"] == "O");
      CHECK(json["verdict"]["taint"]["flags"] == nlohmann::json::array({"TAINT_OOT_MODULE"}));
      CHECK(json["signature"]["module"] == "fx_crash");
      CHECK(json["signature"]["frames"][0]["function"] == "fx_crash_level3");
      CHECK(json["verdict"]["title"].get<std::string>().ends_with(" in fx_crash_level3"));
      CHECK(json["system"]["release"] == facts["vmcoreinfo"]["OSRELEASE"]);
      if (facts.contains("nodename")) CHECK(json["system"]["nodename"] == facts["nodename"]);
      CHECK_FALSE(json["verdict"]["registers"].empty());
      CHECK(json["active_tasks"].size() == 2);  // the fixtures' guests have 2 CPUs
      CHECK(json["run_queues"].size() == 2);
      CHECK(json["memory"]["top_slab_caches"].size() == frontends::triage::kTopSlabs);
      CHECK(json["log"]["tail"].size() == frontends::triage::kLogTailLines);
      // The oops's faulting instruction: the store to NULL at fx_crash.c:62.
      const nlohmann::json& instruction = json["verdict"]["instruction"];
      if (dump.scenario == "panic-qemu") {
        CHECK(instruction.is_null());
      } else {
        CHECK(json["verdict"]["fault_address"] == "0x0");
        CHECK(instruction["address"] == (*level3)["pc"]);
        CHECK(instruction["symbol"].get<std::string>().starts_with("<fx_crash_level3+"));
        CHECK(instruction["file"].get<std::string>().ends_with("fx_crash.c"));
        CHECK(instruction["line"] == (*level3)["line"]);
        CHECK_FALSE(instruction["text"].get<std::string>().empty());
      }
    }
  }
  check_valid_against_schema(dir);
}

TEST_CASE("triage without vmlinux gives kind, panic line, release, log tail and the stack's signature",
          "[triage][facts]") {
  const fs::path dir = cache_dir() / "triage-json-no-vmlinux";
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      const nlohmann::json& facts = dump.facts();
      const TriageReport without = triage_report_without_vmlinux(dump.files(), dump.id);
      const nlohmann::json json = frontends::triage::report_json(without);
      write_file_contents(dir / (file_name(dump.id) + ".json"), json.dump(2));
      INFO(json.dump(2).substr(0, 4000));
      CHECK(json["with_vmlinux"] == false);
      CHECK_FALSE(json["missing"].empty());
      CHECK(json["verdict"]["kind"] == (dump.scenario == "panic-qemu" ? "panic" : "oops"));
      CHECK(json["verdict"]["panic_line"] == expected_panic_line(dump));
      CHECK(json["system"]["release"] == facts["vmcoreinfo"]["OSRELEASE"]);
      CHECK(json["verdict"]["crashing_task"]["pid"] == facts["console_crash"]["pid"]);
      CHECK(json["verdict"]["crashing_task"]["comm"] == facts["console_crash"]["comm"]);
      // The log's last lines are the printk log's last records.
      const nlohmann::json& tail = json["log"]["tail"];
      REQUIRE(tail.size() == frontends::triage::kLogTailLines);
      if (facts.contains("printk"))  // drgn could not read arm64's QEMU dumps
        CHECK(tail.back().get<std::string>().ends_with(facts["printk"]["last"].back().get<std::string>()));
      // The console's trace is complete in every fixture's log: the same
      // signature as the unwound stack's.
      CHECK(json["signature"]["source"] == "console");
      const TriageReport with = triage_report(dump);
      CHECK(with.signature.source == "stack");
      CHECK(without.signature.hash == with.signature.hash);
      CHECK(without.signature.title == with.signature.title);
    }
  }
  check_valid_against_schema(dir);
}

TEST_CASE("triage lists a task in D state with its stack, and a damaged slab cache list costs only the caches",
          "[triage][facts]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  auto intact = open_program(dump);
  auto sleeper = linux_kernel::find_task(*intact, 41);
  REQUIRE(sleeper);
  REQUIRE(sleeper->comm == "fx_sleeper");
  auto state = intact->member_offset("task_struct", "__state");
  REQUIRE(state);
  auto caches = intact->symbol_address("slab_caches");
  REQUIRE(caches);
  DumpEditor editor(dump, *intact);
  // fx_sleeper in TASK_UNINTERRUPTIBLE (__state is an unsigned int: the
  // word's upper half, the next member, kept).
  const uint64_t word = editor.read_u64(sleeper->address + *state);
  editor.write_u64(sleeper->address + *state, (word & ~uint64_t(0xffffffff)) | 2);
  // slab_caches.next sent to an address that is not mapped.
  editor.write_u64(*caches, 0xdead000000000100);
  ProgramOptions options = program_options(dump);
  options.dumps = {editor.save("triage-hung-task-d31")};
  const TriageReport report = triage_report(options, "fx_sleeper in D state, slab_caches broken");

  REQUIRE(report.hung_tasks.size() == 1);
  const frontends::triage::ReportTask& hung = report.hung_tasks.front();
  CHECK(hung.pid == 41);
  CHECK(hung.state == "UN");
  CHECK_FALSE(hung.waiting_ns);  // the fixture kernel keeps no sched_info (CONFIG_SCHED_INFO off)
  CHECK(std::any_of(hung.stack.begin(), hung.stack.end(),
                    [](const ReportFrame& f) { return f.function == "fx_sleep_leaf" && f.module == "fx_crash"; }));
  // The verdict and the rest stand; the caches are named as not read.
  CHECK(report.signature.title == "BUG: kernel NULL pointer dereference in fx_crash_level3");
  REQUIRE(report.memory);
  CHECK(report.memory->top_slabs.empty());
  CHECK(report.memory->total_ram > 0);
  CHECK(report.modules.size() == 1);
  CHECK(std::any_of(report.problems.begin(), report.problems.end(),
                    [](const std::string& p) { return p.starts_with("slab caches: "); }));
  CHECK(frontends::triage::render_text(report).find("== Not read ==") != std::string::npos);
}

TEST_CASE("triage text and markdown open with the verdict and show the signature's frames", "[triage]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  const TriageReport report = triage_report(dump);
  const std::string verdict = "oops: BUG: kernel NULL pointer dereference in fx_crash_level3 (module fx_crash)";
  CHECK(frontends::triage::verdict_line(report) == verdict);
  const std::vector<std::string> text = lines_of(frontends::triage::render_text(report));
  REQUIRE(text.size() > 10);
  CHECK(text[2] == "== Verdict ==");
  CHECK(text[3] == verdict);
  CHECK(std::find(text.begin(), text.end(), "    (inlined) pde_write") != text.end());
  CHECK(std::find(text.begin(), text.end(), "  fx_crash_level3 [fx_crash]") != text.end());
  const std::string markdown = frontends::triage::render_markdown(report);
  CHECK(markdown.starts_with("# coroner triage report\n\n## Verdict\n\n" + verdict + "\n"));
  CHECK(markdown.find("| NAME | BASE | SIZE | FLAGS | CRASHING | OBJECT |\n| --- | --- | --- | --- | --- | --- |\n"
                      "| fx_crash |") != std::string::npos);
  CHECK(markdown.find("- **hash**: `" + report.signature.hash + "`") != std::string::npos);
}

TEST_CASE("coroner triage writes the report, exits 0, and rejects bad arguments in one line", "[triage][cli]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  const fs::path out = cache_dir() / "triage-cli.json";
  fs::remove(out);
  run_command(fmt::format("{} triage --format json --sections log,modules -o {} {} {} --mod-path {}", CORONER_BINARY,
                          out.string(), dump.vmlinux(), dump.files().front(),
                          fs::path(dump.module_path()).parent_path().string()));
  const nlohmann::json json = nlohmann::json::parse(file_contents(out));
  CHECK(json["signature"]["title"] == "BUG: kernel NULL pointer dereference in fx_crash_level3");
  CHECK(json.contains("log"));
  CHECK(json.contains("modules"));
  CHECK_FALSE(json.contains("memory"));
  CHECK_FALSE(json.contains("run_queues"));
  // Without vmlinux (none under /usr/lib/debug for the fixture kernel).
  const std::string text = run_command(fmt::format("{} triage {}", CORONER_BINARY, dump.files().front()));
  CHECK(text.find("oops: BUG: kernel NULL pointer dereference in fx_crash_level3 (module fx_crash)") != std::string::npos);
  CHECK(text.find("Missing: without the kernel's vmlinux") != std::string::npos);
  CHECK(run_command(fmt::format("{} triage --help", CORONER_BINARY)).starts_with("usage: coroner triage [--format "));
  for (const auto& [arguments, error] : std::vector<std::pair<std::string, std::string>>{
           {"--format pdf x", "coroner: triage: --format takes text, markdown, json or html, not 'pdf'"},
           {"--sections log,disks x", "coroner: triage: unknown section 'disks' (sections: backtrace,registers,log,"
                                      "modules,hung,active,memory,runq,checks, all)"},
           {"--bogus x", "coroner: triage: unknown option --bogus"},
           {"", "coroner: triage: need a DUMP ([VMLINUX] DUMP)"}}) {
    const std::string output = run_command(fmt::format("{} triage {} 2>&1; echo status=$?", CORONER_BINARY, arguments));
    CHECK(output == error + "\nstatus=2\n");
  }
  // Another kernel's vmlinux: the report from the log, naming the mismatch.
  const nlohmann::json wrong = nlohmann::json::parse(run_command(fmt::format(
      "{} triage --format json {} {}", CORONER_BINARY, fixture_case("arm64/oops-kdump/d31").vmlinux(),
      dump.files().front())));
  CHECK(wrong["with_vmlinux"] == false);
  CHECK(wrong["signature"]["title"] == "BUG: kernel NULL pointer dereference in fx_crash_level3");
  REQUIRE(wrong["problems"].size() == 1);
  CHECK(wrong["problems"][0].get<std::string>().starts_with("vmlinux: "));
  CHECK(wrong["problems"][0].get<std::string>().find("does not match") != std::string::npos);
  const std::string missing = run_command(fmt::format("{} triage /nonexistent/dump 2>&1; echo status=$?", CORONER_BINARY));
  CHECK(missing.ends_with("status=1\n"));
  CHECK(std::count(missing.begin(), missing.end(), '\n') == 2);
}

}  // namespace coroner::test
