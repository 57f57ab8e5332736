// The legacy log_buf of Linux 3.5 to 5.9 on synthetic memory: a writer that
// follows log_store()'s rules (records aligned to 8, a zero-length header
// marks the wrap to the buffer's start, the oldest records give way).
#include "tests/analyzer/os/linux/printk_fake_ring.hpp"

#include <catch2/catch.hpp>

#include <deque>

namespace coroner::linux_kernel {
namespace {

using test::FakePhysicalMemory;

constexpr uint64_t kBufSymbol = 0x1000, kLenSymbol = 0x1008, kFirstSymbol = 0x1010, kNextSymbol = 0x1018;
constexpr uint64_t kBuf = 0x10000;

struct Layout {
  std::string type;    // "printk_log", or "log" before 3.11
  uint64_t header;     // sizeof(struct printk_log)
  bool caller_id;      // CONFIG_PRINTK_CALLER (5.1+): u32 after the level byte
};

std::string vmcoreinfo(const Layout& l) {
  std::string text = fmt::format(
      "SYMBOL(log_buf)={:x}\nSYMBOL(log_buf_len)={:x}\nSYMBOL(log_first_idx)={:x}\nSYMBOL(log_next_idx)={:x}\n"
      "SIZE({})={}\nOFFSET({}.ts_nsec)=0\nOFFSET({}.len)=8\nOFFSET({}.text_len)=10\n",
      kBufSymbol, kLenSymbol, kFirstSymbol, kNextSymbol, l.type, l.header, l.type, l.type, l.type);
  if (l.caller_id) text += fmt::format("OFFSET({}.caller_id)=16\n", l.type);
  return text;
}

struct Stored {
  LogRecord record;
  uint32_t idx = 0, len = 0;
};

class LogBufWriter {
 public:
  LogBufWriter(FakePhysicalMemory& mem, Layout layout, uint32_t buf_len)
      : mem_(mem), l_(std::move(layout)), buf_len_(buf_len) {
    mem_.put<uint64_t>(kBufSymbol, kBuf);
    mem_.put<uint32_t>(kLenSymbol, buf_len);
    mem_.map(kBuf, buf_len);
    store_indexes();
  }

  void add(std::string text, std::string dict = "") {
    LogRecord r;
    r.ts_nsec = 1000 * ++count_;
    r.level = static_cast<int>(count_ % 8);
    r.facility = 1;
    r.caller_id = l_.caller_id ? static_cast<uint32_t>(100 + count_) : 0;
    r.text = std::move(text);
    uint32_t size = static_cast<uint32_t>((l_.header + r.text.size() + dict.size() + 7) & ~size_t{7});
    while (!live_.empty() && !has_space(size)) drop_first();
    if (next_ + size + l_.header > buf_len_) {  // mark the wrap and start over
      std::vector<char> zero(l_.header);
      mem_.write(kBuf + next_, zero.data(), zero.size());
      next_ = 0;
      while (!live_.empty() && !has_space(size)) drop_first();
    }
    if (live_.empty()) first_ = next_;
    uint64_t at = kBuf + next_;
    std::vector<char> zero(size);
    mem_.write(at, zero.data(), size);
    mem_.put<uint64_t>(at, r.ts_nsec);
    mem_.put<uint16_t>(at + 8, static_cast<uint16_t>(size));
    mem_.put<uint16_t>(at + 10, static_cast<uint16_t>(r.text.size()));
    mem_.put<uint16_t>(at + 12, static_cast<uint16_t>(dict.size()));
    mem_.put<uint8_t>(at + 14, static_cast<uint8_t>(r.facility));
    mem_.put<uint8_t>(at + 15, static_cast<uint8_t>(r.level << 5));
    if (l_.caller_id) mem_.put<uint32_t>(at + 16, r.caller_id);
    mem_.write(at + l_.header, r.text.data(), r.text.size());
    mem_.write(at + l_.header + r.text.size(), dict.data(), dict.size());
    for (std::string_view d = dict; !d.empty();) {
      std::string_view entry = d.substr(0, d.find('\0'));
      if (entry.starts_with("SUBSYSTEM=")) r.subsystem = entry.substr(10);
      if (entry.starts_with("DEVICE=")) r.device = entry.substr(7);
      d.remove_prefix(std::min(d.size(), entry.size() + 1));
    }
    live_.push_back({std::move(r), next_, size});
    next_ += size;
    store_indexes();
  }

  std::vector<LogRecord> live_records() const {
    std::vector<LogRecord> v;
    for (const Stored& s : live_) {
      v.push_back(s.record);
      v.back().seq = v.size() - 1;
    }
    return v;
  }
  const std::deque<Stored>& live() const { return live_; }
  uint32_t next_index() const { return next_; }

 private:
  bool has_space(uint32_t size) const {
    uint32_t free = next_ > first_ || live_.empty() ? std::max(buf_len_ - next_, first_) : first_ - next_;
    return free >= size + l_.header;
  }
  void drop_first() {
    live_.pop_front();
    first_ = live_.empty() ? next_ : live_.front().idx;
  }
  void store_indexes() {
    mem_.put<uint32_t>(kFirstSymbol, first_);
    mem_.put<uint32_t>(kNextSymbol, next_);
  }

  FakePhysicalMemory& mem_;
  Layout l_;
  uint32_t buf_len_;
  uint32_t first_ = 0, next_ = 0;
  uint64_t count_ = 0;
  std::deque<Stored> live_;
};

using Fixture = test::PrintkFakeKernel;

TEST_CASE("legacy log_buf: records, dictionaries and wrap markers", "[printk]") {
  auto layout = GENERATE(Layout{"printk_log", 16, false}, Layout{"log", 16, false}, Layout{"printk_log", 24, true});
  INFO("struct " << layout.type << ", " << layout.header << " bytes");
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
  Layout layout{"printk_log", 16, false};
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
  Layout layout{"printk_log", 16, false};
  Fixture f;
  LogBufWriter buf(f.phys, layout, 8192);
  for (int i = 0; i < 20; ++i) buf.add(fmt::format("record {} {}", i, std::string(200, 'z')));
  REQUIRE(buf.next_index() > 4096);
  // Keep the headers, lose the text of the one record that straddles the
  // page boundary: only makes sense if a header lies before the boundary.
  std::vector<LogRecord> want;
  size_t straddling = 0;
  for (const Stored& s : buf.live()) {
    if (s.idx < 4096 && s.idx + s.len > 4096) ++straddling;
  }
  REQUIRE(straddling == 1);
  f.phys.remove_page(kBuf + 4096);
  auto log = f.read(vmcoreinfo(layout));
  REQUIRE(log);
  // The walk needs the headers in the lost page, so it stops there.
  for (const Stored& s : buf.live())
    if (s.idx + s.len <= 4096) want.push_back(s.record);
  for (size_t i = 0; i < want.size(); ++i) want[i].seq = i;
  test::require_same_records(*log, want);
  REQUIRE(f.skipped.size() == 2);
  CHECK_THAT(f.skipped[0].message(), Catch::Contains("0x11000"));
  CHECK_THAT(f.skipped[1].message(), Catch::Contains("and all after it"));
}

}  // namespace
}  // namespace coroner::linux_kernel
