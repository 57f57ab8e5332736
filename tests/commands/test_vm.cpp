// vm on every fixture dump: init's address space (its VMAs in order, their
// sizes adding up to mm->total_vm, busybox mapped at 0x400000 where
// facts.json read busybox's ELF header), -p against vtop, -m, a kernel
// thread, and bad arguments.
#include "tests/commands/command_runner.hpp"

namespace coroner::test {

namespace {

constexpr uint64_t kBusyboxText = 0x400000;  // facts.json user_memory's address

const nlohmann::json* vma_holding(const nlohmann::json& vm, uint64_t address) {
  for (const auto& vma : vm["vmas"])
    if (hex_value(vma["start"]) <= address && address < hex_value(vma["end"])) return &vma;
  return nullptr;
}

}  // namespace

TEST_CASE("vm 1 lists init's VMAs and their files on every dump", "[vm][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json vm = run.json("vm 1");
      CHECK(vm["pid"] == 1);
      CHECK(vm["command"] == "init");
      if (dump.facts().contains("tasks"))
        for (const auto& task : dump.facts()["tasks"])
          if (task["pid"] == 1) CHECK(hex_value(vm["task"]) == hex_value(task["task"]));
      REQUIRE(vm["vmas"].size() >= 5);
      // In address order, not overlapping, page aligned; together they are
      // mm->total_vm.
      uint64_t previous_end = 0, pages_kib = 0;
      for (const auto& vma : vm["vmas"]) {
        uint64_t start = hex_value(vma["start"]), end = hex_value(vma["end"]);
        INFO("VMA " << vma.dump());
        CHECK(start < end);
        CHECK(start >= previous_end);
        CHECK(start % 4096 == 0);
        previous_end = end;
        pages_kib += (end - start) / 1024;
      }
      CHECK(pages_kib == vm["total_vm"]);
      CHECK(vm["rss"].get<uint64_t>() > 0);
      CHECK(vm["rss"].get<uint64_t>() <= vm["total_vm"].get<uint64_t>());
      // busybox mapped from 0x400000 (facts.json: its ELF header is
      // there), its code executable; one stack.
      const nlohmann::json* text = vma_holding(vm, kBusyboxText);
      REQUIRE(text);
      CHECK(hex_value((*text)["start"]) == kBusyboxText);
      REQUIRE((*text)["file"].is_string());
      CHECK_THAT((*text)["file"].get<std::string>(), Catch::EndsWith("/busybox"));
      size_t code = 0;  // VM_EXEC
      for (const auto& vma : vm["vmas"]) code += vma["file"] == (*text)["file"] && (hex_value(vma["flags"]) & 0x4);
      CHECK(code == 1);
      size_t stacks = 0;  // VM_GROWSDOWN
      for (const auto& vma : vm["vmas"]) stacks += (hex_value(vma["flags"]) & 0x100) != 0;
      CHECK(stacks == 1);

      const std::string listing = run.text("vm 1");
      CHECK_THAT(listing, Catch::StartsWith("PID: 1        TASK: "));
      CHECK_THAT(listing, Catch::Contains("\n       MM               PGD          RSS    TOTAL_VM\n"));
      CHECK_THAT(listing, Catch::Contains("\n      VMA           START      END     FLAGS FILE\n"));
      CHECK_THAT(listing, Catch::Contains(fmt::format("     400000 ")));
      CHECK_THAT(listing, Catch::Contains((*text)["file"].get<std::string>() + "\n"));
    }
  }
}

TEST_CASE("vm -p gives each page's physical address as vtop does", "[vm]") {
  for (const DumpCase& dump : all_dumps()) {
    if (dump.variant != "d31" && dump.variant != "kdump-zlib") continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      const nlohmann::json vm = run.json("vm -p 1");
      const nlohmann::json* text = vma_holding(vm, kBusyboxText);
      REQUIRE(text);
      const auto& pages = (*text)["pages"];
      REQUIRE(pages.size() == (hex_value((*text)["end"]) - hex_value((*text)["start"])) / run.program().arch().page_size());
      size_t mapped = 0;
      for (const auto& page : pages) {
        if (page["physical"].is_null()) {
          CHECK(page.contains("file_offset"));  // busybox pages not read in yet
          continue;
        }
        if (++mapped > 4) continue;  // vtop a few of them
        const nlohmann::json vtop = run.json("vtop -c 1 " + page["virtual"].get<std::string>());
        CHECK(vtop["paddr"] == page["physical"]);
      }
      CHECK(mapped > 0);
      const std::string listing = run.text("vm -p 1");
      CHECK_THAT(listing, Catch::Contains("\nVIRTUAL     PHYSICAL"));
      CHECK_THAT(listing, Catch::Contains("\n400000      "));
    }
  }
}

TEST_CASE("vm of a kernel thread shows its empty MM line only, -m prints the mm_struct", "[vm]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  CommandRunner run(dump);
  const std::string kthread = run.text("vm 2");
  CHECK_THAT(kthread, Catch::EndsWith("       MM               PGD          RSS    TOTAL_VM\n"
                                      "       0                 0            0k       0k   \n"));
  const nlohmann::json json = run.json("vm 2");
  CHECK(json["mm"] == "0x0");
  CHECK(json["vmas"].empty());

  const nlohmann::json mm = run.json("vm -m 1");
  REQUIRE(mm.contains("mm_struct"));
  CHECK(mm["mm"] == run.json("vm 1")["mm"]);
  CHECK_THAT(run.text("vm -m 1"), Catch::Contains("struct mm_struct {"));

  const nlohmann::json two = run.json("vm 1 2");
  REQUIRE(two.is_array());
  CHECK(two.size() == 2);
}

TEST_CASE("vm rejects bad arguments with one line", "[vm][errors]") {
  CommandRunner run(fixture_case("x86_64/oops-kdump/d31"));
  CHECK_THAT(run.failure("vm 99999999999999999999"), Catch::Contains("invalid task or pid value"));
  CHECK_THAT(run.failure("vm 0xzz"), Catch::Contains("invalid task or pid value"));
  CHECK_THAT(run.failure("vm 123456"), Catch::Contains("invalid task or pid value"));
  CHECK_THAT(run.failure("vm -p -m 1"), Catch::Contains("exclude each other"));
  CHECK_THAT(run.failure("vm -z"), Catch::Contains("unknown option"));
  for (const std::string& line : {run.failure("vm 0xzz"), run.failure("vm -z")}) CHECK(line.find('\n') == std::string::npos);
}

}  // namespace coroner::test
