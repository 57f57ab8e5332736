// The lockless printk ring buffer (Linux 5.10+) on synthetic memory: a
// writer that follows the kernel's allocation rules (data blocks that would
// wrap go to the ring's start, old records are pushed out of both rings)
// lays out rings the reader must read back exactly.
#include "tests/analyzer/os/linux/printk_fake_ring.hpp"

#include <catch2/catch.hpp>

#include <deque>

namespace coroner::linux_kernel {
namespace {

using test::FakePhysicalMemory;

constexpr uint64_t kPrbSymbol = 0x1000, kPrb = 0x2000, kDescs = 0x10000, kInfos = 0x20000, kData = 0x40000;
constexpr uint64_t kDescSize = 24, kInfoSize = 88;
constexpr uint64_t kReserved = 0, kCommitted = 1, kFinalized = 2, kReusable = 3;

// The VMCOREINFO lines of the printk ring buffer, as Linux 6.1 exports them.
const char* kRingInfo = R"(SYMBOL(prb)=1000
SIZE(printk_ringbuffer)=88
OFFSET(printk_ringbuffer.desc_ring)=0
OFFSET(printk_ringbuffer.text_data_ring)=48
OFFSET(printk_ringbuffer.fail)=80
SIZE(prb_desc_ring)=48
OFFSET(prb_desc_ring.count_bits)=0
OFFSET(prb_desc_ring.descs)=8
OFFSET(prb_desc_ring.infos)=16
OFFSET(prb_desc_ring.head_id)=24
OFFSET(prb_desc_ring.tail_id)=32
SIZE(prb_desc)=24
OFFSET(prb_desc.state_var)=0
OFFSET(prb_desc.text_blk_lpos)=8
SIZE(prb_data_blk_lpos)=16
OFFSET(prb_data_blk_lpos.begin)=0
OFFSET(prb_data_blk_lpos.next)=8
SIZE(printk_info)=88
OFFSET(printk_info.seq)=0
OFFSET(printk_info.ts_nsec)=8
OFFSET(printk_info.text_len)=16
OFFSET(printk_info.caller_id)=20
OFFSET(printk_info.dev_info)=24
SIZE(dev_printk_info)=64
OFFSET(dev_printk_info.subsystem)=0
LENGTH(printk_info_subsystem)=16
OFFSET(dev_printk_info.device)=16
LENGTH(printk_info_device)=48
SIZE(prb_data_ring)=32
OFFSET(prb_data_ring.size_bits)=0
OFFSET(prb_data_ring.data)=8
OFFSET(prb_data_ring.head_lpos)=16
OFFSET(prb_data_ring.tail_lpos)=24
SIZE(atomic_long_t)=8
OFFSET(atomic_long_t.counter)=0
)";

// kRingInfo with KEY=value replaced, added, or (value nullptr) removed.
VmcoreInfo ring_info_with(std::initializer_list<std::pair<std::string, const char*>> changes) {
  std::string text = kRingInfo;
  for (const auto& [key, value] : changes) {
    size_t at = text.find(key + "=");
    if (at != std::string::npos) text.erase(at, text.find('\n', at) + 1 - at);
    if (value) text += key + "=" + value + "\n";
  }
  return VmcoreInfo::parse(text);
}

struct Written {
  LogRecord record;
  uint64_t id = 0;
  uint64_t begin = 0, next = 0;  // text block lpos
  bool wrapped = false;
};

// Writes records the way the kernel's prb_reserve()/prb_final_commit() do.
class RingWriter {
 public:
  RingWriter(FakePhysicalMemory& mem, unsigned count_bits, unsigned size_bits)
      : mem_(mem), count_(uint64_t{1} << count_bits), size_(uint64_t{1} << size_bits) {
    mem_.put<uint64_t>(kPrbSymbol, kPrb);
    mem_.map(kPrb, 88);
    mem_.put<uint32_t>(kPrb + 0, count_bits);
    mem_.put<uint64_t>(kPrb + 8, kDescs);
    mem_.put<uint64_t>(kPrb + 16, kInfos);
    mem_.put<uint32_t>(kPrb + 48, size_bits);
    mem_.put<uint64_t>(kPrb + 56, kData);
    mem_.map(kDescs, count_ * kDescSize);
    mem_.map(kInfos, count_ * kInfoSize);
    mem_.map(kData, size_);
    // The kernel starts with one recycled dummy descriptor, id -count - 1,
    // and the data positions one wrap below zero.
    head_id_ = tail_id_ = (0 - count_ - 1) & kIdMask;
    head_lpos_ = tail_lpos_ = 0 - size_;
    put_desc(head_id_, kReusable, 1, 1);
    store_ids();
  }

  const Written& add(std::string text, int level = 6, std::string subsystem = "", std::string device = "") {
    Written w;
    w.id = (head_id_ + 1) & kIdMask;
    w.record.seq = seq_++;
    w.record.ts_nsec = 1000000000ull * w.record.seq + 123456789;
    w.record.level = level;
    w.record.facility = level == 5 ? 0 : 3;
    w.record.caller_id = 0x80000000u | static_cast<uint32_t>(w.record.seq % 2);
    w.record.text = std::move(text);
    w.record.subsystem = std::move(subsystem);
    w.record.device = std::move(device);
    uint64_t block = (kBlockIdSize + w.record.text.size() + 7) & ~uint64_t{7};
    w.begin = head_lpos_;
    w.next = w.begin + block;
    if (w.begin / size_ != w.next / size_) {  // would wrap: store at the start
      w.wrapped = true;
      w.next = (w.next / size_) * size_ + block;
    }
    while (!live_.empty() && (w.next - tail_lpos_ > size_ || w.id - tail_id_ >= count_)) push_tail();
    if (live_.empty()) tail_id_ = w.id, tail_lpos_ = w.begin;
    head_lpos_ = w.next;
    head_id_ = w.id;
    mem_.put<uint64_t>(kData + w.begin % size_, w.id);
    uint64_t text_at = w.wrapped ? 0 : w.begin % size_;
    if (w.wrapped) mem_.put<uint64_t>(kData, w.id);
    mem_.write(kData + text_at + kBlockIdSize, w.record.text.data(), w.record.text.size());
    put_desc(w.id, kFinalized, w.begin, w.next);
    put_info(w);
    store_ids();
    live_.push_back(std::move(w));
    return live_.back();
  }

  // A record without text: empty (NO_LPOS) or whose text was lost (FAILED_LPOS).
  void add_dataless(bool failed) {
    Written w;
    w.id = (head_id_ + 1) & kIdMask;
    w.record.seq = seq_++;
    w.record.ts_nsec = 42;
    w.record.caller_id = 0;
    w.begin = w.next = failed ? 0x1 : 0x3;
    while (!live_.empty() && w.id - tail_id_ >= count_) push_tail();
    if (live_.empty()) tail_id_ = w.id;
    head_id_ = w.id;
    put_desc(w.id, kFinalized, w.begin, w.next);
    put_info(w);
    store_ids();
    if (!failed) live_.push_back(std::move(w));
  }

  void set_state(uint64_t id, uint64_t state, uint64_t as_id) {
    mem_.put<uint64_t>(kDescs + (id % count_) * kDescSize, (state << 62) | as_id);
  }
  void set_tail_id(uint64_t id) { mem_.put<uint64_t>(kPrb + 32, id); }
  uint64_t desc_count() const { return count_; }
  const std::deque<Written>& live() const { return live_; }
  std::vector<LogRecord> live_records() const {
    std::vector<LogRecord> v;
    for (const Written& w : live_) v.push_back(w.record);
    return v;
  }

  static constexpr uint64_t kIdMask = (uint64_t{1} << 62) - 1;
  static constexpr uint64_t kBlockIdSize = 8;

 private:
  void push_tail() {
    const Written& old = live_.front();
    set_state(old.id, kReusable, old.id);
    if (!(old.begin & 1)) tail_lpos_ = old.next;
    live_.pop_front();
    tail_id_ = live_.empty() ? (head_id_ + 1) & kIdMask : live_.front().id;
  }
  void put_desc(uint64_t id, uint64_t state, uint64_t begin, uint64_t next) {
    uint64_t at = kDescs + (id % count_) * kDescSize;
    set_state(id, state, id);
    mem_.put<uint64_t>(at + 8, begin);
    mem_.put<uint64_t>(at + 16, next);
  }
  void put_info(const Written& w) {
    uint64_t at = kInfos + (w.id % count_) * kInfoSize;
    std::vector<char> zero(kInfoSize);
    mem_.write(at, zero.data(), zero.size());
    mem_.put<uint64_t>(at, w.record.seq);
    mem_.put<uint64_t>(at + 8, w.record.ts_nsec);
    mem_.put<uint16_t>(at + 16, static_cast<uint16_t>(w.record.text.size()));
    mem_.put<uint8_t>(at + 18, static_cast<uint8_t>(w.record.facility));
    mem_.put<uint8_t>(at + 19, static_cast<uint8_t>(w.record.level << 5 | 0x2));  // flags = LOG_NEWLINE
    mem_.put<uint32_t>(at + 20, w.record.caller_id.value_or(0));
    mem_.write(at + 24, w.record.subsystem.data(), w.record.subsystem.size());
    mem_.write(at + 40, w.record.device.data(), w.record.device.size());
  }
  void store_ids() {
    mem_.put<uint64_t>(kPrb + 24, head_id_);
    mem_.put<uint64_t>(kPrb + 32, tail_id_);
  }

  FakePhysicalMemory& mem_;
  uint64_t count_, size_;
  uint64_t head_id_, tail_id_, head_lpos_, tail_lpos_;
  uint64_t seq_ = 0;
  std::deque<Written> live_;
};

// The ring's VMCOREINFO is kRingInfo unless a test changes it.
struct Fixture : test::PrintkFakeKernel {
  VmcoreInfo info = VmcoreInfo::parse(kRingInfo);
  Expected<std::vector<LogRecord>> read() { return PrintkFakeKernel::read(info); }
};

TEST_CASE("lockless ring: records in blocks that do not wrap", "[printk]") {
  Fixture f;
  RingWriter ring(f.phys, 4, 12);
  ring.add("Linux version 6.1.192", 5);
  ring.add("virtio_blk virtio1: [vda] 2048 512-byte logical blocks", 6, "virtio", "+virtio:virtio1");
  ring.add("first line\nsecond line", 4);
  ring.add(std::string(300, 'x'), 7);
  auto log = f.read();
  REQUIRE(log);
  test::require_same_records(*log, ring.live_records());
  CHECK(f.skipped.empty());
}

TEST_CASE("lockless ring: wrapping blocks and recycled descriptors", "[printk]") {
  Fixture f;
  RingWriter ring(f.phys, 3, 8);  // 8 descriptors, 256 bytes of text
  bool saw_wrapped = false;
  for (int i = 0; i < 60; ++i) {
    ring.add(fmt::format("message {} {}", i, std::string(i % 37, '.')));
    saw_wrapped = saw_wrapped || ring.live().back().wrapped;
    auto log = f.read();
    REQUIRE(log);
    test::require_same_records(*log, ring.live_records());
    REQUIRE(f.skipped.empty());
  }
  CHECK(saw_wrapped);
  CHECK(ring.live().front().id > 0);  // the kernel's ids passed zero
  CHECK(ring.live().front().record.seq > 50);
}

TEST_CASE("lockless ring: only committed and finalized descriptors of the right id", "[printk]") {
  Fixture f;
  RingWriter ring(f.phys, 4, 12);
  for (int i = 0; i < 6; ++i) ring.add(fmt::format("record {}", i));
  auto want = ring.live_records();
  const auto& live = ring.live();

  ring.set_state(live[1].id, kCommitted, live[1].id);  // committed, may still be extended: shown
  ring.set_state(live[5].id, kReserved, live[5].id);   // being written: not shown
  want.erase(want.begin() + 5);
  ring.set_state(live[3].id, kReusable, live[3].id);   // given up: not shown
  // A writer took over slot 2 for a newer id (ring in flux): not shown.
  ring.set_state(live[2].id, kReserved, live[2].id + ring.desc_count());
  want.erase(want.begin() + 3);
  want.erase(want.begin() + 2);

  auto log = f.read();
  REQUIRE(log);
  test::require_same_records(*log, want);
  CHECK(f.skipped.empty());
}

TEST_CASE("lockless ring: text in an unreadable page skips that record only", "[printk]") {
  Fixture f;
  RingWriter ring(f.phys, 5, 13);  // two pages of text
  for (int i = 0; i < 20; ++i) ring.add(fmt::format("record {} {}", i, std::string(300, 'a' + i % 26)));
  f.phys.remove_page(kData + 4096);
  std::vector<LogRecord> want;
  size_t lost = 0;
  for (const Written& w : ring.live()) {
    uint64_t start = w.wrapped ? 0 : w.begin % 8192, end = w.wrapped ? w.next % 8192 : start + (w.next - w.begin);
    bool in_lost_page = end > 4096 && start < 8192;
    if (in_lost_page || w.begin % 8192 >= 4096) ++lost;
    else want.push_back(w.record);
  }
  REQUIRE(lost > 0);
  REQUIRE(!want.empty());
  auto log = f.read();
  REQUIRE(log);
  test::require_same_records(*log, want);
  REQUIRE(f.skipped.size() == lost);
  CHECK(f.skipped[0].code() == Errc::not_in_dump);
  CHECK_THAT(f.skipped[0].message(), Catch::Contains("printk record with descriptor id") &&
                                         Catch::Contains(fmt::format("{:#x}", kData + 4096)));

  // With no text page left there is no log at all.
  f.phys.remove_page(kData);
  auto none = f.read();
  REQUIRE(!none);
  CHECK_THAT(none.error().message(), Catch::Contains("printk text data ring") && Catch::Contains("not in dump"));
}

TEST_CASE("lockless ring: records without text", "[printk]") {
  Fixture f;
  RingWriter ring(f.phys, 4, 12);
  ring.add("before");
  ring.add_dataless(false);  // an empty message: shown with empty text
  ring.add_dataless(true);   // its text could not be stored: skipped, with a reason
  ring.add("after");
  auto log = f.read();
  REQUIRE(log);
  test::require_same_records(*log, ring.live_records());
  REQUIRE(log->size() == 3);
  CHECK(log->at(1).text.empty());
  REQUIRE(f.skipped.size() == 1);
  CHECK_THAT(f.skipped[0].message(), Catch::Contains("never stored"));
}

TEST_CASE("lockless ring: a text block overwritten by another record", "[printk]") {
  Fixture f;
  RingWriter ring(f.phys, 4, 12);
  for (int i = 0; i < 4; ++i) ring.add(fmt::format("record {}", i));
  const Written& victim = ring.live()[2];
  f.phys.put<uint64_t>(kData + victim.begin % 4096, victim.id + 77);
  auto want = ring.live_records();
  want.erase(want.begin() + 2);
  auto log = f.read();
  REQUIRE(log);
  test::require_same_records(*log, want);
  REQUIRE(f.skipped.size() == 1);
  CHECK(f.skipped[0].code() == Errc::corrupt);
  CHECK_THAT(f.skipped[0].message(), Catch::Contains("belongs to descriptor"));
}

TEST_CASE("lockless ring: corrupt lpos and ids", "[printk]") {
  Fixture f;
  RingWriter ring(f.phys, 4, 12);
  for (int i = 0; i < 4; ++i) ring.add(fmt::format("record {}", i));

  SECTION("a text block more than one wrap long") {
    f.phys.put<uint64_t>(kDescs + (ring.live()[1].id % 16) * kDescSize + 16, ring.live()[1].begin + 3 * 4096);
    auto log = f.read();
    REQUIRE(log);
    CHECK(log->size() == 3);
    REQUIRE(f.skipped.size() == 1);
    CHECK_THAT(f.skipped[0].message(), Catch::Contains("invalid text block lpos"));
  }
  SECTION("a tail more than a ring behind the head reads the newest descriptors") {
    ring.set_tail_id(ring.live().back().id - 1000);
    auto log = f.read();
    REQUIRE(log);
    test::require_same_records(*log, ring.live_records());  // the rest of the slots are recycled
    REQUIRE(!f.skipped.empty());
    CHECK_THAT(f.skipped[0].message(), Catch::Contains("behind head id"));
  }
}

TEST_CASE("lockless ring: bad headers and missing keys give one clear error", "[printk]") {
  Fixture f;
  RingWriter ring(f.phys, 4, 12);
  ring.add("hello");

  SECTION("implausible ring sizes") {
    f.phys.put<uint32_t>(kPrb + 48, 40);
    auto log = f.read();
    REQUIRE(!log);
    CHECK(log.error().code() == Errc::corrupt);
    CHECK_THAT(log.error().message(), Catch::Contains("size_bits 40"));
  }
  SECTION("descriptor ring not in the dump") {
    f.phys.put<uint64_t>(kPrb + 8, 0x7000000);
    auto log = f.read();
    REQUIRE(!log);
    CHECK_THAT(log.error().message(), Catch::Contains("printk descriptor ring") && Catch::Contains("0x7000000"));
  }
  SECTION("prb pointer not in the dump") {
    f.info = ring_info_with({{"SYMBOL(prb)", "9000000"}});
    auto log = f.read();
    REQUIRE(!log);
    CHECK_THAT(log.error().message(), Catch::Contains("kernel log") && Catch::Contains("0x9000000"));
  }
  SECTION("a missing offset is named") {
    f.info = ring_info_with({{"OFFSET(printk_info.text_len)", nullptr}});
    auto log = f.read();
    REQUIRE(!log);
    CHECK_THAT(log.error().message(), Catch::Contains("OFFSET(printk_info.text_len)"));
  }
  SECTION("offsets outside the structure sizes") {
    f.info = ring_info_with({{"OFFSET(printk_info.caller_id)", "200"}});
    auto log = f.read();
    REQUIRE(!log);
    CHECK_THAT(log.error().message(), Catch::Contains("SIZE(printk_info)"));
  }
  SECTION("neither ring buffer") {
    f.info = VmcoreInfo::parse("OSRELEASE=6.1.0\nSYMBOL(init_uts_ns)=ffffffff85acac20\n");
    auto log = f.read();
    REQUIRE(!log);
    CHECK(log.error().code() == Errc::not_found);
    CHECK_THAT(log.error().message(), Catch::Contains("SYMBOL(prb)") && Catch::Contains("SYMBOL(log_buf)"));
  }
}

TEST_CASE("lockless ring: a continuation record keeps its LOG_CONT flag", "[printk]") {
  Fixture f;
  RingWriter ring(f.phys, 4, 12);
  ring.add("Memory: 2048K available (", 6);
  ring.add("1234K kernel code)", 6);
  // A pr_cont() the kernel could not append to the record before it.
  f.phys.put<uint8_t>(kInfos + (ring.live()[1].id % 16) * kInfoSize + 19, 6 << 5 | 8);
  auto log = f.read();
  REQUIRE(log);
  REQUIRE(log->size() == 2);
  CHECK_FALSE(log->at(0).continuation);
  CHECK(log->at(1).continuation);
  CHECK(log->at(1).level == 6);
  CHECK(log->at(1).text == "1234K kernel code)");
}

TEST_CASE("lockless ring: facility and level after dict_len in the 5.10 merge-window layout", "[printk]") {
  Fixture f;
  RingWriter ring(f.phys, 4, 12);
  ring.add("hello", 3);
  // That layout had u16 dict_len after text_len; move our two bytes there.
  uint64_t info = kInfos + (ring.live()[0].id % 16) * kInfoSize;
  f.phys.put<uint16_t>(info + 18, 0);
  f.phys.put<uint8_t>(info + 20, 7);
  f.phys.put<uint8_t>(info + 21, 1 << 5);
  f.info = ring_info_with({{"OFFSET(printk_info.dict_len)", "18"}, {"OFFSET(printk_info.caller_id)", "24"}});
  auto log = f.read();
  REQUIRE(log);
  REQUIRE(log->size() == 1);
  CHECK(log->at(0).facility == 7);
  CHECK(log->at(0).level == 1);
  CHECK(log->at(0).text == "hello");
}

}  // namespace
}  // namespace coroner::linux_kernel
