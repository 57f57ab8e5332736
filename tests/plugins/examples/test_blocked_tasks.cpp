// The fixtures have no task in D state, so this test makes some: fx_sleeper
// (in fx_sleep_leaf, in the module) and three kworkers (one stack) put in
// TASK_UNINTERRUPTIBLE in a copy of the x86_64 oops dump. hungtasks lists
// exactly ps's UN tasks with their stacks; stackgroups groups the three
// kworkers; its triage check reports them, hungtasks' reports nothing (the
// fixture kernel keeps no sched_info, so no wait is known).
#include "analyzer/os/linux/tasks.hpp"
#include "tests/commands/dump_editor.hpp"
#include "tests/plugins/plugin_test_support.hpp"

#include <set>

using namespace coroner;
using namespace coroner::test;

TEST_CASE("hungtasks and stackgroups on tasks put in D state, and their triage checks", "[plugins][examples][blocked]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  auto intact = open_program(dump);
  auto tasks = linux_kernel::list_tasks(*intact);
  REQUIRE(tasks);
  auto state = intact->member_offset("task_struct", "__state");
  REQUIRE(state);
  DumpEditor editor(dump, *intact);
  std::set<int64_t> blocked;
  size_t kworkers = 0;
  for (const linux_kernel::Task& t : *tasks) {
    const bool worker = t.comm.starts_with("kworker/") && t.comm.find('H') == std::string::npos && kworkers < 3;
    if (t.comm != "fx_sleeper" && !worker) continue;
    kworkers += worker;
    blocked.insert(t.pid);
    // __state is an unsigned int: the word's upper half, the next member, kept.
    const uint64_t word = editor.read_u64(t.address + *state);
    editor.write_u64(t.address + *state, (word & ~uint64_t(0xffffffff)) | 2);
  }
  REQUIRE(blocked.size() == 4);
  const std::string edited = editor.save("plugins-blocked-d31");
  const std::string args = " --mod-path " + fs::path(dump.module_path()).parent_path().string() + " " + dump.vmlinux() + " " + edited;

  const std::vector<nlohmann::json> documents = json_documents(
      run_command(coroner_env() + " -s --output json --plugin " + example_plugin("hungtasks") + " --plugin " +
                  example_plugin("stackgroups") + args + commands_x({"ps", "hungtasks", "stackgroups -s UN"})));
  std::set<int64_t> ps_un;
  for (const nlohmann::json& t : document_with(documents, "tasks")["tasks"])
    if (t["st"] == "UN") ps_un.insert(t["pid"].get<int64_t>());
  CHECK(ps_un == blocked);
  std::set<int64_t> listed;
  bool sleeper_stack = false;
  for (const nlohmann::json& t : document_with(documents, "hung_tasks")["hung_tasks"]) {
    listed.insert(t["pid"].get<int64_t>());
    CHECK(t["waiting_ns"].is_null());
    for (const nlohmann::json& f : t["frames"])
      sleeper_stack |= t["command"] == "fx_sleeper" && f["function"] == "fx_sleep_leaf" && f["module"] == "fx_crash";
  }
  CHECK(listed == ps_un);
  CHECK(sleeper_stack);
  const nlohmann::json& groups = document_with(documents, "groups")["groups"];
  REQUIRE(groups.size() == 2);
  CHECK(groups[0]["count"] == 3);
  CHECK(groups[1]["count"] == 1);
  CHECK(groups[1]["tasks"][0]["command"] == "fx_sleeper");

  const fs::path dir = cache_dir() / "plugin-dir-blocked";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(example_plugin("hungtasks"), dir / "hungtasks.so");
  fs::copy_file(example_plugin("stackgroups"), dir / "stackgroups.so");
  const nlohmann::json report =
      json_document(run_command(coroner_env(dir.string()) + " triage --format json --sections checks" + args));
  REQUIRE(report["checks"].size() == 1);
  CHECK(report["checks"][0]["check"] == "shared-blocked-stacks");
  CHECK(report["checks"][0]["severity"] == "warning");
  CHECK_THAT(report["checks"][0]["summary"].get<std::string>(),
             Catch::StartsWith("3 tasks in D state share one stack, blocked in "));
  CHECK(report["checks"][0]["details"] == groups[0]["stack"]);
}
