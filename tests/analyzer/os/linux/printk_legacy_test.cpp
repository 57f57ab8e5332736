// The legacy log_buf of Linux 3.5 to 5.9 on synthetic memory, in the
// layouts of real kernels (printk_legacy_buffer.hpp); `log` reads the same
// buffers from a real dump in tests/commands/test_log_legacy.cpp.
#include "tests/analyzer/os/linux/printk_fake_ring.hpp"
#include "tests/analyzer/os/linux/printk_legacy_buffer.hpp"

#include <catch2/catch.hpp>

#include <deque>

namespace coroner::linux_kernel {
namespace {

using test::FakePhysicalMemory;

constexpr uint64_t kBufSymbol = 0x1000, kLenSymbol = 0x1008, kFirstSymbol = 0x1010, kNextSymbol = 0x1018;
constexpr uint64_t kBuf = 0x10000;

using test::LegacyLayout;

std::string vmcoreinfo(const LegacyLayout& l) {
  return test::legacy_vmcoreinfo(l, kBufSymbol, kLenSymbol, kFirstSymbol, kNextSymbol);
}

// A legacy buffer in fake memory at kBuf: every record added is stored
// there, with the indexes, as the kernel would.
class LogBufWriter {
 public:
  LogBufWriter(FakePhysicalMemory& mem, LegacyLayout layout, uint32_t buf_len) : mem_(mem), buf_(std::move(layout), buf_len) {
    mem_.put<uint64_t>(kBufSymbol, kBuf);
    mem_.put<uint32_t>(kLenSymbol, buf_len);
    store();
  }
  void add(std::string text, std::string dict = "", bool continuation = false) {
    buf_.add(std::move(text), std::move(dict), std::nullopt, continuation);
    store();
  }
  std::vector<LogRecord> live_records() const { return buf_.live_records(); }
  const std::deque<test::LegacyLogBuffer::Stored>& live() const { return buf_.live(); }
  uint32_t next_index() const { return buf_.next_index(); }

 private:
  void store() {
    mem_.write(kBuf, buf_.bytes().data(), buf_.bytes().size());
    mem_.put<uint32_t>(kFirstSymbol, buf_.first_index());
    mem_.put<uint32_t>(kNextSymbol, buf_.next_index());
  }
  FakePhysicalMemory& mem_;
  test::LegacyLogBuffer buf_;
};

using Fixture = test::PrintkFakeKernel;

TEST_CASE("legacy log_buf: records, dictionaries and wrap markers", "[printk]") {
  auto layout = GENERATE(from_range(test::real_legacy_layouts()));
  INFO(layout.kernel << ": struct " << layout.type << ", " << layout.header << " bytes");
  Fixture f;
  LogBufWriter buf(f.phys, layout, 1024);
  buf.add("Linux version 4.18.0");
  buf.add("e1000 0000:00:03.0 eth0: link up", std::string("SUBSYSTEM=pci\0DEVICE=+pci:0000:00:03.0", 38));
  buf.add("two\nlines");
  auto log = f.read(vmcoreinfo(layout));
  REQUIRE(log);
  test::require_same_records(*log, buf.live_records());
  CHECK(f.skipped.empty());

  bool wrapped = false;
  for (int i = 0; i < 80; ++i) {
    buf.add(fmt::format("message {} {}", i, std::string(i % 53, '-')));
    wrapped = wrapped || buf.live().front().idx > buf.live().back().idx;
    log = f.read(vmcoreinfo(layout));
    REQUIRE(log);
    test::require_same_records(*log, buf.live_records());
    REQUIRE(f.skipped.empty());
  }
  CHECK(wrapped);
}

TEST_CASE("legacy log_buf: corrupt records stop the walk and say where", "[printk]") {
  LegacyLayout layout = test::real_legacy_layouts()[1];
  Fixture f;
  LogBufWriter buf(f.phys, layout, 1024);
  for (int i = 0; i < 5; ++i) buf.add(fmt::format("record {}", i));
  uint64_t third = kBuf + buf.live()[2].idx;

  SECTION("a length past the buffer's end") {
    f.phys.put<uint16_t>(third + 8, 2000);
    auto log = f.read(vmcoreinfo(layout));
    REQUIRE(log);
    CHECK(log->size() == 2);
    REQUIRE(f.skipped.size() == 1);
    CHECK_THAT(f.skipped[0].message(), Catch::Contains(fmt::format("{:#x}", third)) &&
                                           Catch::Contains("record length"));
  }
  SECTION("text longer than the record") {
    f.phys.put<uint16_t>(third + 10, 500);
    auto log = f.read(vmcoreinfo(layout));
    REQUIRE(log);
    CHECK(log->size() == 2);
    REQUIRE(f.skipped.size() == 1);
  }
  SECTION("two wrap markers in a row") {
    f.phys.put<uint16_t>(kBuf + buf.live()[0].idx + 8, 0);
    auto log = f.read(vmcoreinfo(layout));
    REQUIRE(!log);  // nothing read at all
    CHECK_THAT(log.error().message(), Catch::Contains("second wrap marker"));
  }
  SECTION("indexes outside the buffer") {
    f.phys.put<uint32_t>(kNextSymbol, 5000);
    auto log = f.read(vmcoreinfo(layout));
    REQUIRE(!log);
    CHECK(log.error().code() == Errc::corrupt);
    CHECK_THAT(log.error().message(), Catch::Contains("next index 0x1388"));
  }
  SECTION("an implausible buffer length") {
    f.phys.put<uint32_t>(kLenSymbol, 0xfffffff0);
    auto log = f.read(vmcoreinfo(layout));
    REQUIRE(!log);
    CHECK_THAT(log.error().message(), Catch::Contains("log_buf"));
  }
  SECTION("a missing key is named") {
    std::string text = vmcoreinfo(layout);
    text.erase(text.find("OFFSET(printk_log.len)"), std::string("OFFSET(printk_log.len)=8\n").size());
    auto log = f.read(text);
    REQUIRE(!log);
    CHECK_THAT(log.error().message(), Catch::Contains("OFFSET(printk_log.len)"));
  }
  SECTION("the character buffer of Linux before 3.5 is refused by name") {
    auto log = f.read(vmcoreinfo(layout) + "SYMBOL(log_end)=ffffffff81c2a1c0\n");
    REQUIRE(!log);
    CHECK(log.error().code() == Errc::unsupported);
    CHECK_THAT(log.error().message(), Catch::Contains("before 3.5"));
  }
  SECTION("an unreadable buffer") {
    f.phys.remove_page(kBuf);
    auto log = f.read(vmcoreinfo(layout));
    REQUIRE(!log);
    CHECK_THAT(log.error().message(), Catch::Contains("log_buf") && Catch::Contains("not in dump"));
  }
}

TEST_CASE("legacy log_buf: a record in an unreadable page is skipped", "[printk]") {
  LegacyLayout layout = test::real_legacy_layouts()[1];
  Fixture f;
  LogBufWriter buf(f.phys, layout, 8192);
  for (int i = 0; i < 20; ++i) buf.add(fmt::format("record {} {}", i, std::string(200, 'z')));
  REQUIRE(buf.next_index() > 4096);
  // Keep the headers, lose the text of the one record that straddles the
  // page boundary: only makes sense if a header lies before the boundary.
  std::vector<LogRecord> want;
  size_t straddling = 0;
  for (const auto& s : buf.live()) {
    if (s.idx < 4096 && s.idx + s.len > 4096) ++straddling;
  }
  REQUIRE(straddling == 1);
  f.phys.remove_page(kBuf + 4096);
  auto log = f.read(vmcoreinfo(layout));
  REQUIRE(log);
  // The walk needs the headers in the lost page, so it stops there.
  for (const auto& s : buf.live())
    if (s.idx + s.len <= 4096) want.push_back(s.record);
  for (size_t i = 0; i < want.size(); ++i) want[i].seq = i;
  test::require_same_records(*log, want);
  REQUIRE(f.skipped.size() == 2);
  CHECK_THAT(f.skipped[0].message(), Catch::Contains("0x11000"));
  CHECK_THAT(f.skipped[1].message(), Catch::Contains("and all after it"));
}

TEST_CASE("legacy log_buf: a continuation fragment keeps its LOG_CONT flag", "[printk]") {
  Fixture f;
  LogBufWriter buf(f.phys, test::real_legacy_layouts()[1], 1024);
  buf.add("Memory: 2048K available (");
  buf.add("1234K kernel code)", "", true);
  auto log = f.read(vmcoreinfo(test::real_legacy_layouts()[1]));
  REQUIRE(log);
  test::require_same_records(*log, buf.live_records());
  REQUIRE(log->size() == 2);
  CHECK_FALSE(log->at(0).continuation);
  CHECK(log->at(1).continuation);
}

}  // namespace
}  // namespace coroner::linux_kernel
