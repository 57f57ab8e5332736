// format_log_line() and find_panic_message() on hand-made records.
#include "analyzer/os/linux/panic_message.hpp"
#include "analyzer/os/linux/printk_log.hpp"

#include <catch2/catch.hpp>

namespace coroner::linux_kernel {
namespace {

LogRecord record(std::string text, uint64_t ts_nsec = 4088577123) {
  LogRecord r;
  r.ts_nsec = ts_nsec;
  r.text = std::move(text);
  return r;
}

std::vector<LogRecord> log_of(std::initializer_list<const char*> lines) {
  std::vector<LogRecord> log;
  for (const char* line : lines) log.push_back(record(line));
  return log;
}

TEST_CASE("format_log_line writes makedumpfile's --dump-dmesg lines", "[printk]") {
  CHECK(format_log_line(record("BUG: kernel NULL pointer dereference")) ==
        "[    4.088577] BUG: kernel NULL pointer dereference\n");
  CHECK(format_log_line(record("Linux version", 0)) == "[    0.000000] Linux version\n");
  CHECK(format_log_line(record("x", 123456789012345)) == "[123456.789012] x\n");
  CHECK(format_log_line(record("")) == "[    4.088577] \n");
  // Continuation lines are indented under the text.
  CHECK(format_log_line(record("crashing with 'oops\n' on cpu 0")) ==
        "[    4.088577] crashing with 'oops\n               ' on cpu 0\n");
  CHECK(format_log_line(record("a\nb", 123456789012345)) == "[123456.789012] a\n                b\n");
  // White space stays; other control bytes and non-ASCII become \xNN.
  CHECK(format_log_line(record("rcu: \tRCU\r")) == "[    4.088577] rcu: \tRCU\r\n");
  CHECK(format_log_line(record(std::string("a\0b\x1b\x7f\xc3\xa9", 7))) ==
        "[    4.088577] a\\x00b\\x1b\\x7f\\xc3\\xa9\n");
}

TEST_CASE("find_panic_message follows crash's passes", "[panic]") {
  SECTION("a panic() call") {
    auto log = log_of({"Linux version 6.1", "fx_crash: panicking",
                       "Kernel panic - not syncing: fx_crash: deliberate panic (magic c0ffee11deadbeef)",
                       "CPU: 0 PID: 1 Comm: init",
                       "---[ end Kernel panic - not syncing: fx_crash: deliberate panic (magic c0ffee11deadbeef) ]---"});
    CHECK(find_panic_message(log) ==
          std::optional<std::string>("Kernel panic - not syncing: fx_crash: deliberate panic (magic c0ffee11deadbeef)"));
  }
  SECTION("an x86 oops that went on to panic is told by its first oops line") {
    auto log = log_of({"fx_crash: crashing", "BUG: kernel NULL pointer dereference, address: 0000000000000000",
                       "#PF: supervisor write access in kernel mode", "Oops: 0002 [#1] SMP",
                       "Kernel panic - not syncing: Fatal exception"});
    CHECK(find_panic_message(log) ==
          std::optional<std::string>("BUG: kernel NULL pointer dereference, address: 0000000000000000"));
  }
  SECTION("an arm64 oops") {
    auto log = log_of({"Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000",
                       "Mem abort info:", "Internal error: Oops: 0000000096000045 [#1] PREEMPT SMP"});
    CHECK(find_panic_message(log) ==
          std::optional<std::string>(
              "Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000"));
  }
  SECTION("an older oops with only an Oops: line") {
    auto log = log_of({"something", "Oops: 0000 [#1] SMP", "Kernel panic - not syncing: Fatal exception"});
    CHECK(find_panic_message(log) == std::optional<std::string>("Oops: 0000 [#1] SMP"));
  }
  SECTION("exceptions come before oopses, even later in the log") {
    auto log = log_of({"BUG: unable to handle page fault for address: ffff", "Oops: 0000 [#1] SMP",
                       "general protection fault, probably for non-canonical address 0xdead: 0000 [#2] SMP"});
    CHECK(find_panic_message(log) ==
          std::optional<std::string>("general protection fault, probably for non-canonical address 0xdead: 0000 [#2] SMP"));
  }
  SECTION("SysRq crashes: the panic() string of 5.x+, the SysRq line of older kernels") {
    CHECK(find_panic_message(log_of({"sysrq: Trigger a crash", "Kernel panic - not syncing: sysrq triggered crash",
                                     "CPU: 0 PID: 1 Comm: sh"})) ==
          std::optional<std::string>("Kernel panic - not syncing: sysrq triggered crash"));
    CHECK(find_panic_message(log_of({"SysRq : Trigger a crash", "BUG: unable to handle kernel NULL pointer"})) ==
          std::optional<std::string>("SysRq : Trigger a crash"));
  }
  SECTION("continuation lines count as lines") {
    std::vector<LogRecord> log{record("first\nKernel panic - not syncing: inside a record\nlast")};
    CHECK(find_panic_message(log) == std::optional<std::string>("Kernel panic - not syncing: inside a record"));
  }
  SECTION("the later passes") {
    CHECK(find_panic_message(log_of({"mce: [Hardware Error]: CPU 0: Machine Check Exception"})) ==
          std::optional<std::string>("mce: [Hardware Error]: CPU 0: Machine Check Exception"));
    CHECK(find_panic_message(log_of({"Bad mode in Synchronous Abort handler detected"})) ==
          std::optional<std::string>("Bad mode in Synchronous Abort handler detected"));
  }
  SECTION("nothing") {
    CHECK(find_panic_message(log_of({"Linux version 6.1", "Freeing unused kernel memory"})) == std::nullopt);
    CHECK(find_panic_message({}) == std::nullopt);
  }
}

}  // namespace
}  // namespace coroner::linux_kernel
