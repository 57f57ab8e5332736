// The kernel log and panic message of every real dump, against facts.json
// (drgn's reading and the guest's console), Debian's makedumpfile
// --dump-dmesg and crash 8.0.2's `log` / `log -m`.
#include "analyzer/os/linux/panic_message.hpp"
#include "analyzer/os/linux/printk_log.hpp"
#include "tests/support/kernel_memory_fixture.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace coroner::linux_kernel {
namespace {

std::vector<LogRecord> read_log(const test::DumpCase& c) {
  test::OpenedKernel o = test::open_kernel_memory(c);
  std::vector<Error> skipped;
  auto log = read_printk_log(o.info, *o.memory, &skipped);
  if (!log) FAIL(c.id << ": " << log.error().message());
  for (const Error& e : skipped) FAIL_CHECK(c.id << ": skipped " << e.message());
  return std::move(*log);
}

std::string formatted(const std::vector<LogRecord>& log) {
  std::string out;
  for (const LogRecord& r : log) out += format_log_line(r);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const test::DumpCase& dump_case(const std::string& id) {
  for (const auto& c : test::all_dumps())
    if (c.id == id) return c;
  FAIL("no fixture " << id);
  throw;
}

TEST_CASE("printk log and panic message of every real dump match facts.json", "[printk][fixtures]") {
  for (const test::DumpCase& c : test::all_dumps()) {
    SECTION(c.id) {
      std::vector<LogRecord> log = read_log(c);
      const auto& facts = c.facts();
      // arm64 panic-qemu facts carry no log (drgn cannot open those dumps);
      // its console saw the same panic, checked below.
      if (facts.contains("printk")) {
        const auto& printk = facts["printk"];
        REQUIRE(log.size() == printk["count"].get<size_t>());
        CHECK(log.front().text == printk["first"].get<std::string>());
        CHECK(log.front().ts_nsec == printk["first_timestamp_ns"].get<uint64_t>());
        CHECK(log.back().ts_nsec == printk["last_timestamp_ns"].get<uint64_t>());
        const auto& last = printk["last"];
        REQUIRE(last.size() == 5);
        for (size_t i = 0; i < 5; ++i) CHECK(log[log.size() - 5 + i].text == last[i].get<std::string>());
      } else {
        REQUIRE(log.size() > 100);
        CHECK(log.front().text.starts_with("Booting Linux on physical CPU"));
      }
      // No record lost in between (time stamps need not grow: early boot
      // records are stamped before the clock is calibrated).
      for (size_t i = 1; i < log.size(); ++i) {
        INFO("record " << i);
        REQUIRE(log[i].seq == log[i - 1].seq + 1);
      }

      auto panic = find_panic_message(log);
      REQUIRE(panic);
      if (!facts["panic_message"].is_null())
        CHECK(*panic == "Kernel panic - not syncing: " + facts["panic_message"].get<std::string>());
      else
        CHECK_THAT(*panic, Catch::Contains(facts["oops_message"].get<std::string>()));
    }
  }
}

// A real dump with some bytes overwritten, to corrupt the ring in place.
class PatchedMemory : public PhysicalMemory {
 public:
  explicit PatchedMemory(const PhysicalMemory& base) : base_(base) {}
  Expected<void> read(uint64_t paddr, std::span<std::byte> out) const override {
    CORONER_CHECK(base_.read(paddr, out));
    for (auto it = patches_.lower_bound(paddr); it != patches_.end() && it->first < paddr + out.size(); ++it)
      out[it->first - paddr] = it->second;
    return {};
  }
  std::vector<PhysRange> ranges() const override { return base_.ranges(); }
  template <typename T>
  void put(uint64_t paddr, T value) {
    for (size_t i = 0; i < sizeof value; ++i) patches_[paddr + i] = reinterpret_cast<const std::byte*>(&value)[i];
  }

 private:
  const PhysicalMemory& base_;
  std::map<uint64_t, std::byte> patches_;
};

TEST_CASE("a corrupted real ring buffer loses only what is corrupt", "[printk][fixtures]") {
  auto id = GENERATE(as<std::string>{}, "x86_64/oops-kdump/d31", "arm64/oops-kdump/d31");
  const test::DumpCase& c = dump_case(id);
  test::OpenedKernel o = test::open_kernel_memory(c);
  const size_t count = c.facts()["printk"]["count"].get<size_t>();
  PatchedMemory patched(*o.dump);
  KernelMemory memory(patched, *o.arch);
  auto phys = [&](uint64_t vaddr) {
    auto p = o.memory->to_physical(vaddr);
    if (!p) FAIL(p.error().message());
    return *p;
  };
  auto off = [&](const char* key) { return *o.info.offset(key); };
  uint64_t prb = *o.memory->read_u64(*o.info.symbol("prb"));
  uint64_t desc_ring = prb + off("printk_ringbuffer.desc_ring");
  uint64_t data_ring = prb + off("printk_ringbuffer.text_data_ring");
  uint64_t descs = *o.memory->read_u64(desc_ring + off("prb_desc_ring.descs"));
  uint64_t count_bits = *o.memory->read_u32(desc_ring + off("prb_desc_ring.count_bits"));
  uint64_t head_id = *o.memory->read_u64(desc_ring + off("prb_desc_ring.head_id"));
  // A record in the middle of the log.
  uint64_t victim = (head_id - count / 2) % (uint64_t{1} << count_bits);
  uint64_t victim_desc = descs + victim * *o.info.size("prb_desc");
  std::vector<Error> skipped;

  SECTION("an implausible text ring size") {
    patched.put<uint32_t>(phys(data_ring + off("prb_data_ring.size_bits")), 45);
    auto log = read_printk_log(o.info, memory, &skipped);
    REQUIRE(!log);
    CHECK_THAT(log.error().message(), Catch::Contains("size_bits 45"));
  }
  SECTION("a descriptor ring pointer to nowhere") {
    patched.put<uint64_t>(phys(desc_ring + off("prb_desc_ring.descs")), descs ^ (uint64_t{1} << 40));
    auto log = read_printk_log(o.info, memory, &skipped);
    REQUIRE(!log);
    CHECK_THAT(log.error().message(), Catch::Contains("printk descriptor ring"));
  }
  SECTION("a descriptor back in the reserved state") {
    uint64_t sv = *o.memory->read_u64(victim_desc + off("prb_desc.state_var"));
    patched.put<uint64_t>(phys(victim_desc + off("prb_desc.state_var")), sv & ((uint64_t{1} << 62) - 1));
    auto log = read_printk_log(o.info, memory, &skipped);
    REQUIRE(log);
    CHECK(log->size() == count - 1);
    CHECK(skipped.empty());
  }
  SECTION("a text block taken by another descriptor") {
    uint64_t begin = *o.memory->read_u64(victim_desc + off("prb_desc.text_blk_lpos") + off("prb_data_blk_lpos.begin"));
    uint64_t data = *o.memory->read_u64(data_ring + off("prb_data_ring.data"));
    uint64_t size = uint64_t{1} << *o.memory->read_u32(data_ring + off("prb_data_ring.size_bits"));
    patched.put<uint64_t>(phys(data + begin % size), uint64_t{12345});
    auto log = read_printk_log(o.info, memory, &skipped);
    REQUIRE(log);
    CHECK(log->size() == count - 1);
    REQUIRE(skipped.size() == 1);
    CHECK_THAT(skipped[0].message(), Catch::Contains("belongs to descriptor 0x3039"));
  }
  SECTION("VMCOREINFO without a needed key") {
    std::string text = *o.dump->vmcoreinfo_text();
    text.erase(text.find("OFFSET(prb_desc.text_blk_lpos)"), 1);
    auto log = read_printk_log(VmcoreInfo::parse(text), memory, &skipped);
    REQUIRE(!log);
    CHECK_THAT(log.error().message(), Catch::Contains("OFFSET(prb_desc.text_blk_lpos)"));
  }
}

// makedumpfile 1.7.2 --dump-dmesg reads ELF dumps only.
TEST_CASE("format_log_line matches makedumpfile --dump-dmesg byte for byte", "[printk][fixtures]") {
  auto id = GENERATE(as<std::string>{}, "x86_64/oops-kdump/vmcore", "x86_64/oops-kdump/elf-d31");
  const test::DumpCase& c = dump_case(id);
  std::string out = (test::cache_dir() / ("printk-dmesg-" + c.variant + ".txt")).string();
  std::remove(out.c_str());
  test::run_command("makedumpfile --dump-dmesg " + c.files().front() + " " + out);
  std::string want = read_file(out);
  REQUIRE(!want.empty());
  CHECK(formatted(read_log(c)) == want);
}

// crash prints the log as makedumpfile does; `log -m` adds each record's
// level as "<L>" after the time stamp; `sys` shows the panic message. One
// crash run (some 15 s) per dump gives all three.
TEST_CASE("log, levels and panic message match crash's log, log -m and sys", "[printk][panic][fixtures][crash]") {
  auto id = GENERATE(as<std::string>{}, "x86_64/panic-qemu/kdump-zlib", "x86_64/oops-kdump/d31");
  const test::DumpCase& c = dump_case(id);
  std::string output = test::run_command("printf 'sys\\nlog\\nlog -m\\nq\\n' | crash -s " + c.vmlinux() + " " +
                                         c.files().front() + " 2>/dev/null");
  std::vector<std::string> sys, log_lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.starts_with("WARNING:")) continue;
    if (log_lines.empty() && !line.starts_with("[")) sys.push_back(line);
    else log_lines.push_back(line);
  }
  REQUIRE(log_lines.size() % 2 == 0);
  size_t half = log_lines.size() / 2;
  std::vector<LogRecord> log = read_log(c);

  std::string plain;
  for (size_t i = 0; i < half; ++i) plain += log_lines[i] + "\n";
  CHECK(formatted(log) == plain);

  std::vector<int> crash_levels;
  static const std::regex level_line(R"(^\[ *\d+\.\d{6}\] <(\d)>)");
  for (size_t i = half; i < log_lines.size(); ++i) {
    std::smatch m;
    if (std::regex_search(log_lines[i], m, level_line)) crash_levels.push_back(std::stoi(m[1]));
  }
  std::vector<int> levels;
  for (const LogRecord& r : log) levels.push_back(r.level);
  CHECK(levels == crash_levels);

  // PANIC: "<line>" and, for an oops, " (check log for details)".
  std::string crash_panic;
  for (const std::string& line : sys) {
    std::smatch m;
    if (std::regex_search(line, m, std::regex(R"re(PANIC: "(.*)")re"))) crash_panic = m[1];
  }
  auto ours = find_panic_message(log);
  REQUIRE(ours);
  if (c.scenario == "panic-qemu") {
    CHECK(*ours == crash_panic);
  } else {
    // crash 8.0.2 misses the 4.20+ x86 oops line and settles for the later
    // "Oops: " line (see panic_message.hpp); both come from the same log.
    CHECK(crash_panic.starts_with("Oops: "));
    CHECK(ours->starts_with("BUG: kernel NULL pointer dereference"));
    CHECK_THAT(plain, Catch::Contains("] " + crash_panic + "\n") && Catch::Contains("] " + *ours + "\n"));
  }
}

}  // namespace
}  // namespace coroner::linux_kernel
