// The adapter behind the plugin API, through a plugin (apitour): kernel,
// physical and user memory, symbols, vmlinux's and a module's types, typed
// objects, container_of, modules and CPUs, against facts.json on the
// unfiltered x86_64 vmcore and the arm64 oops dump.
#include "tests/plugins/plugin_test_support.hpp"

using namespace coroner::test;

TEST_CASE("the plugin API's reads equal facts.json", "[plugins][adapter]") {
  for (const std::string id : {"x86_64/oops-kdump/vmcore", "arm64/oops-kdump/d31"}) {
    const DumpCase& dump = fixture_case(id);
    INFO(id);
    const nlohmann::json& facts = dump.facts();
    nlohmann::json kernel_sample, physical_sample;
    for (const nlohmann::json& s : facts.at("memory_samples")) {
      if (s["kind"] == "kernel-data") kernel_sample = s;
      if (s["kind"] == "direct-map" && !s["paddr"].is_null()) physical_sample = s;
    }
    REQUIRE(kernel_sample.is_object());
    REQUIRE(physical_sample.is_object());
    const nlohmann::json& user = facts.at("user_memory").back();  // a busybox process
    const std::string command = "apitour " + kernel_sample["vaddr"].get<std::string>() + " " +
                                physical_sample["paddr"].get<std::string>() + " " + std::to_string(user["pid"].get<int>());
    const nlohmann::json out = json_document(run_command(coroner_env() + " -s --output json --plugin " +
                                                         test_plugin("apitour") + dump_arguments(dump) +
                                                         commands_x({command})));
    CHECK(out["kernel"] == kernel_sample["first8"]);
    CHECK(out["physical"] == physical_sample["first8"]);
    if (dump.keeps_user_pages) CHECK(out["user"] == user["first16"]);
    else CHECK_THAT(out["user"].get<std::string>(), Catch::StartsWith("error: "));
    CHECK(hex_value(out["panic"]) == hex_value(facts["symbols"]["panic"]));
    CHECK(out["panic_plus_5"] == "panic+5");
    CHECK(out["fx_item_size"] == 48);  // u32 id, char name[16], u64 value, struct list_head node
    CHECK(out["fx_item_node"] == 32);
    CHECK(out["init_task_comm"] == "swapper/0");
    CHECK(out["first_item_id"] == 1);
    CHECK(out["first_item_type"] == "struct fx_item *");
    REQUIRE(out["modules"].size() == facts["modules"].size());
    CHECK(out["modules"][0]["name"] == facts["modules"][0]["name"]);
    CHECK(hex_value(out["modules"][0]["base"]) == hex_value(facts["modules"][0]["base"]));
    for (const auto& [cpu, current] : facts["cpu_current"].items())
      CHECK(hex_value(out["cpus"][cpu]) == hex_value(current["task"]));
  }
}
