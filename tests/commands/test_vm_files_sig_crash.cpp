// files, sig and vm next to crash 8.0.2 itself on the x86_64 fixture dumps,
// line by line, for init and each CPU's active task (crash 8.0.2 finds only
// those on these 6.1 kernels). Where crash is wrong -- it cannot list the
// VMAs of a 6.1 kernel (maple tree) -- only what it gets right is compared;
// docs/crash-differences.md lists the rest.
#include "tests/commands/command_runner.hpp"
#include "tests/commands/crash_session.hpp"

namespace coroner::test {

namespace {


// crash 8.0.2's vm on a 6.1 kernel: the task header and the MM lines, then
// "vm: invalid structure member offset: mm_struct_mmap" (it looks for
// mm_struct.mmap, which 6.1 replaced by the maple tree mm_mt).
std::string crash_vm_prefix(const std::string& crash_text) {
  std::string prefix;
  bool in_header = false;
  for (const std::string& line : lines_of(crash_text)) {
    if (line.starts_with("PID: ")) in_header = true;
    if (!in_header) continue;
    if (line.starts_with("[") || line.starts_with("vm: ") || line.empty()) break;
    prefix += line + "\n";
  }
  return prefix;
}

}  // namespace

TEST_CASE("files, sig and vm print what crash 8.0.2 prints on the x86_64 dumps", "[files][sig][vm][crash]") {
  if (!crash_installed()) return;
  for (const std::string id : {"x86_64/oops-kdump/d31", "x86_64/panic-qemu/kdump-zlib", "x86_64/oops-kdump-la57/d31"}) {
    SECTION(id) {
      const DumpCase& dump = fixture_case(id);
      std::vector<std::string> pids = {"1"};
      for (const auto& [cpu, task] : dump.facts()["cpu_current"].items())
        if (task["pid"] != 1) pids.push_back(std::to_string(task["pid"].get<int>()));
      std::vector<std::string> commands;
      for (const std::string& pid : pids)
        for (const char* command : {"files ", "sig ", "vm "}) commands.push_back(command + pid);
      const std::vector<std::string> expected = crash_outputs(dump, commands);
      REQUIRE(expected.size() == commands.size());
      CommandRunner run(dump);
      for (size_t i = 0; i < commands.size(); ++i) {
        const std::string ours = run.text(commands[i]);
        if (!commands[i].starts_with("vm ")) {
          INFO(commands[i]);
          check_same_lines(ours, expected[i]);
          continue;
        }
        const std::string prefix = crash_vm_prefix(expected[i]);
        const auto theirs = lines_of(prefix);
        REQUIRE(theirs.size() == 3);  // PID line, MM header, MM values
        CHECK_THAT(expected[i], Catch::Contains("mm_struct_mmap"));
        const auto mine = lines_of(ours);
        REQUIRE(mine.size() > 3);
        INFO(commands[i] << "\n--- coroner:\n" << ours << "--- crash:\n" << prefix);
        CHECK(mine[0] == theirs[0]);
        CHECK(mine[1] == theirs[1]);
        // MM PGD RSS TOTAL_VM: crash 8.0.2 leaves MM_SHMEMPAGES out of RSS
        // (fixed in crash 8.0.4); the rest is the same.
        auto words = [](const std::string& line) {
          std::vector<std::string> w;
          std::istringstream in(line);
          for (std::string word; in >> word;) w.push_back(word);
          return w;
        };
        const auto a = words(mine[2]), b = words(theirs[2]);
        REQUIRE(a.size() == 4);
        REQUIRE(b.size() == 4);
        CHECK(a[0] == b[0]);
        CHECK(a[1] == b[1]);
        CHECK(a[3] == b[3]);
        const std::string pid = commands[i].substr(3);
        const nlohmann::json vm = run.json("vm " + pid);
        const std::string shmem = "rss_stat.count[MM_SHMEMPAGES]";
        const int64_t mm_shmem = run.json(fmt::format("pd ((struct mm_struct *){})->{}.counter", vm["mm"].get<std::string>(), shmem))["value"];
        const int64_t cached = run.json(fmt::format("pd ((struct task_struct *){})->{}", vm["task"].get<std::string>(), shmem))["value"];
        const int64_t page_kib = run.program().arch().page_size() / 1024;
        CHECK(std::stoll(a[2]) == std::stoll(b[2]) + (std::max<int64_t>(mm_shmem, 0) + std::max<int64_t>(cached, 0)) * page_kib);
      }
    }
  }
}

}  // namespace coroner::test
