// bt -v on the oops dumps: fx_write's parameters and locals (fx_crash.c)
// against what the init script wrote ("oops\n", 5 bytes, into
// /proc/fx_crash), and values DWARF cannot give here reported as
// unavailable rather than as numbers.
#include "tests/commands/command_runner.hpp"

namespace coroner::test {

namespace {

const nlohmann::json* frame_named(const nlohmann::json& frames, const std::string& function) {
  for (const auto& f : frames)
    if (f["function"] == function) return &f;
  return nullptr;
}

const nlohmann::json* variable_named(const nlohmann::json& frame, const std::string& name) {
  for (const auto& v : frame["variables"])
    if (v["name"] == name) return &v;
  return nullptr;
}

}  // namespace

TEST_CASE("bt -v shows fx_write's parameters and locals with the values the crash left", "[facts][bt]") {
  // make/initramfs/init: echo "oops" > /proc/fx_crash.
  const std::string written = "oops\\n";
  const std::string written_length = "5";
  for (const DumpCase& dump : all_dumps()) {
    if (dump.scenario.rfind("oops-kdump", 0) != 0 || dump.variant != "d31") continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      nlohmann::json bt = run.json("bt -v");
      const nlohmann::json& frames = bt["frames"];
      INFO(frames.dump(1));

      const nlohmann::json* write = frame_named(frames, "fx_write");
      REQUIRE(write);
      // fx_write(struct file *f, const char __user *ubuf, size_t len, loff_t *off) { char buf[16]; ...}
      std::vector<std::string> parameters;
      for (const auto& v : (*write)["variables"])
        if (v["kind"] == "parameter") parameters.push_back(v["name"]);
      CHECK(parameters == std::vector<std::string>{"f", "ubuf", "len", "off"});

      const nlohmann::json* buf = variable_named(*write, "buf");
      REQUIRE(buf);
      CHECK((*buf)["kind"] == "local");
      CHECK((*buf)["type"] == "char [16]");
      REQUIRE((*buf)["value"].is_string());
      // copy_from_user(buf, ubuf, min(len, 15)) of the 5 bytes, the rest zero.
      CHECK((*buf)["value"].get<std::string>().rfind("\"" + written + "\\000", 0) == 0);

      // fx_crash_level1(buf) .. fx_crash_level3(how): how is buf's address.
      const nlohmann::json* level3 = frame_named(frames, "fx_crash_level3");
      REQUIRE(level3);
      const nlohmann::json* how = variable_named(*level3, "how");
      REQUIRE(how);
      CHECK((*how)["type"] == "const char *");
      REQUIRE((*how)["value"].is_string());
      REQUIRE((*buf)["address"].is_string());
      CHECK((*how)["value"].get<std::string>() ==
            fmt::format("{:#x} \"{}\"", hex_value((*buf)["address"]), written));

      // len is in a callee-saved register: recovered through CFI (arm64),
      // not through ORC (x86_64), which then says so instead of a number.
      const nlohmann::json* len = variable_named(*write, "len");
      REQUIRE(len);
      CHECK((*len)["type"] == "size_t");
      if ((*len)["value"].is_null())
        CHECK((*len)["problem"].get<std::string>().rfind("unavailable: register", 0) == 0);
      else
        CHECK((*len)["value"] == written_length);
      if (dump.arch_dir.find("arm64") != std::string::npos) CHECK((*len)["value"] == written_length);

      // Every count the write path still knows is the 5 bytes written.
      for (const char* function : {"vfs_write", "ksys_write"}) {
        const nlohmann::json* frame = frame_named(frames, function);
        REQUIRE(frame);
        const nlohmann::json* count = variable_named(*frame, "count");
        REQUIRE(count);
        if (!(*count)["value"].is_null()) CHECK((*count)["value"] == written_length);
        else CHECK((*count)["problem"].get<std::string>().rfind("unavailable", 0) == 0);
      }

      // fx_crash_level2's how is only known as the value it had on entry.
      const nlohmann::json* level2 = frame_named(frames, "fx_crash_level2");
      REQUIRE(level2);
      const nlohmann::json* entry_how = variable_named(*level2, "how");
      REQUIRE(entry_how);
      CHECK((*entry_how)["value"].is_null());
      CHECK((*entry_how)["problem"] == "unavailable: DW_OP_entry_value");

      std::string text = run.text("bt -v");
      CHECK(text.find("    local buf = \"" + written) != std::string::npos);
      CHECK(text.find("    how = <unavailable: DW_OP_entry_value>") != std::string::npos);
      // Without -v, no variables.
      CHECK_FALSE(run.json("bt")["frames"][0].contains("variables"));
    }
  }
}

TEST_CASE("bt -v of the sleeping fx_sleeper gives the depths fx_crash.c passes", "[facts][bt]") {
  for (const DumpCase& dump : all_dumps()) {
    if (dump.variant != "d31" && dump.variant != "kdump-zlib") continue;
    const auto& facts = dump.facts();
    if (!facts.contains("tasks")) continue;
    int pid = -1;
    for (const auto& t : facts["tasks"])
      if (t["comm"] == "fx_sleeper") pid = t["pid"];
    if (pid < 0) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      nlohmann::json frames = run.json(fmt::format("bt -v {}", pid))["frames"];
      INFO(frames.dump(1));
      // fx_sleeper: fx_sleep_deep(1) -> fx_sleep_leaf(depth + 1).
      for (auto [function, depth] : {std::pair{"fx_sleep_deep", "1"}, std::pair{"fx_sleep_leaf", "2"}}) {
        const nlohmann::json* frame = frame_named(frames, function);
        REQUIRE(frame);
        const nlohmann::json* variable = variable_named(*frame, "depth");
        REQUIRE(variable);
        CHECK((*variable)["kind"] == "parameter");
        CHECK((*variable)["type"] == "int");
        CHECK((*variable)["value"] == depth);
      }
    }
  }
}

}  // namespace coroner::test
