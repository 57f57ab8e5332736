// The foundation's acceptance checks on every real fixture dump: sys, rd,
// vtop, user memory of a task, filtered pages — against facts.json.
#include "tests/commands/command_runner.hpp"

#include <set>

namespace coroner::test {

namespace {

const char* kBusyboxElfHeader = "7f454c46020101030000000000000000";

// Tasks whose user page 0x400000 must hold busybox's ELF header: those of
// facts.user_memory with bytes, else every `sleep` (drgn failed on arm64).
std::vector<int> user_memory_pids(const nlohmann::json& facts) {
  std::vector<int> pids;
  if (facts.contains("user_memory"))
    for (const auto& u : facts["user_memory"])
      if (u.contains("first16")) pids.push_back(u["pid"]);
  if (pids.empty() && facts.contains("tasks"))
    for (const auto& t : facts["tasks"])
      if (t["comm"] == "sleep") pids.push_back(t["pid"]);
  return pids;
}

}  // namespace

TEST_CASE("sys gives the release, CPU count and panic string of facts.json on every dump", "[facts][sys]") {
  for (const DumpCase& dump : all_dumps()) {
    SECTION(dump.id) {
      CommandRunner run(dump);
      const auto& facts = dump.facts();
      nlohmann::json sys = run.json("sys");
      CHECK(sys["release"] == facts.value("osrelease", std::string("6.1.192")));
      // Every fixture kernel ran on 2 CPUs; a panic stops the others, which
      // crash shows as "CPUS: 2 [OFFLINE: 1]" and drgn as online_cpus.
      CHECK(sys["cpus"] == 2);
      if (facts.contains("online_cpus")) CHECK(sys["online_cpus"] == facts["online_cpus"]);
      REQUIRE(sys["panic"].is_string());
      std::string panic = sys["panic"];
      if (!facts["panic_message"].is_null()) CHECK_THAT(panic, Catch::Contains(facts["panic_message"].get<std::string>()));
      else CHECK_THAT(panic, Catch::Contains(facts["oops_message"].get<std::string>()));
      std::string text = run.text("sys");
      CHECK_THAT(text, Catch::Contains("RELEASE: 6.1.192"));
      CHECK_THAT(text, Catch::Contains("PANIC: \""));
    }
  }
}

TEST_CASE("rd of every memory sample returns the bytes of facts.json", "[facts][rd]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("memory_samples")) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      for (const auto& sample : facts["memory_samples"]) {
        INFO(sample["kind"].get<std::string>() << " at " << sample["vaddr"].get<std::string>());
        size_t len = sample["len"];
        nlohmann::json rd = run.json(fmt::format("rd -8 {} {}", sample["vaddr"].get<std::string>(), len));
        std::vector<uint8_t> bytes = bytes_of(rd);
        REQUIRE(bytes.size() == len);
        CHECK(sha256_hex(bytes.data(), bytes.size()) == sample["sha256"].get<std::string>());
      }
    }
  }
}

TEST_CASE("vtop of direct-map samples gives the physical address of facts.json", "[facts][vtop]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("memory_samples")) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      for (const auto& sample : facts["memory_samples"]) {
        if (sample["paddr"].is_null()) continue;
        nlohmann::json v = run.json("vtop " + sample["vaddr"].get<std::string>());
        CHECK(hex_value(v["paddr"]) == hex_value(sample["paddr"]));
        CHECK(!v["levels"].empty());
        std::string text = run.text("vtop " + sample["vaddr"].get<std::string>());
        CHECK_THAT(text, Catch::Contains(fmt::format("{:x}", hex_value(sample["paddr"]))));
      }
    }
  }
}

TEST_CASE("user address 0x400000 of a task holds busybox's ELF header where user pages are kept", "[facts][user]") {
  for (const DumpCase& dump : all_dumps()) {
    if (!dump.keeps_user_pages) continue;
    std::vector<int> pids = user_memory_pids(dump.facts());
    if (pids.empty()) continue;  // arm64 panic-qemu: no task facts
    SECTION(dump.id) {
      CommandRunner run(dump);
      for (int pid : pids) {
        INFO("PID " << pid);
        run.text(fmt::format("set {}", pid));
        nlohmann::json rd = run.json("rd -u -8 400000 16");
        std::vector<uint8_t> bytes = bytes_of(rd);
        CHECK(hex(bytes.data(), bytes.size()) == kBusyboxElfHeader);
        nlohmann::json v = run.json(fmt::format("vtop -c {} 400000", pid));
        CHECK(v["space"] == "user");
        CHECK(v["paddr"].is_string());
      }
    }
  }
}

TEST_CASE("a read of a filtered-out page says it was excluded by the dump filter", "[facts][filtered]") {
  for (const DumpCase& dump : all_dumps()) {
    if (!dump.filtered) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      const Dump& d = run.program().dump();
      uint64_t page = run.program().arch().page_size();
      std::optional<uint64_t> excluded;
      std::vector<std::byte> buf(8);
      for (const PhysRange& r : d.ranges()) {
        for (uint64_t a = r.start; a < r.end() && !excluded; a += page) {
          auto got = d.read(a, buf);
          if (!got && got.error().code() == Errc::excluded_by_filter) excluded = a;
        }
        if (excluded) break;
      }
      REQUIRE(excluded);
      std::string message = run.failure(fmt::format("rd -p {:x}", *excluded));
      CHECK_THAT(message, Catch::Contains("excluded by the dump filter"));
      CHECK_THAT(message, Catch::Contains(fmt::format("{:x}", *excluded)));
    }
  }
}

}  // namespace coroner::test
