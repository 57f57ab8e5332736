// A legacy log_buf (Linux 3.5 to 5.9) laid out by the rules of the kernel's
// log_store(): records padded to LOG_ALIGN, a zero-length header marking the
// wrap to the buffer's start, the oldest records giving way to new ones.
// The layouts are those of real kernels. Shared by the reader's tests on
// fake memory (printk_legacy_test.cpp) and `log` on a real dump patched to
// hold such a buffer (tests/commands/test_log_legacy.cpp).
#pragma once

#include "analyzer/os/linux/printk_log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace coroner::test {

struct LegacyLayout {
  std::string kernel;  // where the layout is from
  std::string type;    // "printk_log", or "log" before 3.11
  uint64_t header;     // sizeof(struct printk_log): u64 ts_nsec, u16 len, text_len, dict_len, u8 facility, flags:5/level:3
  bool caller_id;      // CONFIG_PRINTK_CALLER (5.1+): u32 caller_id after the level byte
  uint32_t align;      // LOG_ALIGN: 4 with CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS (struct __packed __aligned(4)), else 8
};

// The layouts of real kernels. The VMCOREINFO they export is
// SIZE(<type>)=header, OFFSET(<type>.ts_nsec)=0, len=8, text_len=10,
// dict_len=12 (as an x86_64 4.16 kernel printed it, and 3.5's struct log);
// caller_id=16 where configured.
inline std::vector<LegacyLayout> real_legacy_layouts() {
  return {
      {"x86_64 3.5 to 3.10 (struct log)", "log", 16, false, 4},
      {"x86_64 3.11 to 5.9 (struct printk_log)", "printk_log", 16, false, 4},
      {"x86_64 5.1 to 5.9 with CONFIG_PRINTK_CALLER", "printk_log", 20, true, 4},
      {"a 5.1 to 5.9 kernel with CONFIG_PRINTK_CALLER and LOG_ALIGN 8", "printk_log", 24, true, 8},
  };
}

// The VMCOREINFO lines the kernel writes for the buffer (log_buf_vmcoreinfo_setup()).
inline std::string legacy_vmcoreinfo(const LegacyLayout& l, uint64_t buf_symbol, uint64_t len_symbol,
                                     uint64_t first_symbol, uint64_t next_symbol) {
  std::string text = fmt::format(
      "SYMBOL(log_buf)={:x}\nSYMBOL(log_buf_len)={:x}\nSYMBOL(log_first_idx)={:x}\nSYMBOL(log_next_idx)={:x}\n"
      "SIZE({})={}\nOFFSET({}.ts_nsec)=0\nOFFSET({}.len)=8\nOFFSET({}.text_len)=10\nOFFSET({}.dict_len)=12\n",
      buf_symbol, len_symbol, first_symbol, next_symbol, l.type, l.header, l.type, l.type, l.type, l.type);
  if (l.caller_id) text += fmt::format("OFFSET({}.caller_id)=16\n", l.type);
  return text;
}

// The buffer's bytes and its first/next indexes, as the kernel keeps them.
class LegacyLogBuffer {
 public:
  struct Stored {
    linux_kernel::LogRecord record;
    uint32_t idx = 0, len = 0;
  };

  LegacyLogBuffer(LegacyLayout layout, uint32_t buf_len) : l_(std::move(layout)), bytes_(buf_len) {}

  // A record; its time stamp is 1 µs per record unless given, its level
  // cycles through 0..7, its caller is thread 100 + n (or CPU n % 2 when n
  // is odd) where the layout has one. A dictionary is "KEY=value\0KEY=value".
  void add(std::string text, std::string dict = "", std::optional<uint64_t> ts_nsec = std::nullopt,
           bool continuation = false) {
    linux_kernel::LogRecord r;
    ++count_;
    r.ts_nsec = ts_nsec.value_or(1000 * count_);
    r.level = static_cast<int>(count_ % 8);
    r.facility = 1;
    r.continuation = continuation;
    if (l_.caller_id)
      r.caller_id = count_ % 2 ? linux_kernel::kCallerCpu | static_cast<uint32_t>(count_ % 2)
                               : static_cast<uint32_t>(100 + count_);
    r.text = std::move(text);
    uint32_t size = static_cast<uint32_t>((l_.header + r.text.size() + dict.size() + l_.align - 1) & ~size_t{l_.align - 1});
    while (!live_.empty() && !has_space(size)) drop_first();
    if (next_ + size + l_.header > bytes_.size()) {  // mark the wrap and start over
      std::fill_n(bytes_.begin() + next_, l_.header, std::byte{0});
      next_ = 0;
      while (!live_.empty() && !has_space(size)) drop_first();
    }
    if (live_.empty()) first_ = next_;
    uint32_t at = next_;
    std::fill_n(bytes_.begin() + at, size, std::byte{0});
    put<uint64_t>(at, r.ts_nsec);
    put<uint16_t>(at + 8, static_cast<uint16_t>(size));
    put<uint16_t>(at + 10, static_cast<uint16_t>(r.text.size()));
    put<uint16_t>(at + 12, static_cast<uint16_t>(dict.size()));
    put<uint8_t>(at + 14, static_cast<uint8_t>(r.facility));
    put<uint8_t>(at + 15, static_cast<uint8_t>(r.level << 5 | (continuation ? 8 : 2)));  // LOG_CONT : LOG_NEWLINE
    if (l_.caller_id) put<uint32_t>(at + 16, *r.caller_id);
    std::memcpy(bytes_.data() + at + l_.header, r.text.data(), r.text.size());
    std::memcpy(bytes_.data() + at + l_.header + r.text.size(), dict.data(), dict.size());
    for (std::string_view d = dict; !d.empty();) {
      std::string_view entry = d.substr(0, d.find('\0'));
      if (entry.starts_with("SUBSYSTEM=")) r.subsystem = entry.substr(10);
      if (entry.starts_with("DEVICE=")) r.device = entry.substr(7);
      d.remove_prefix(std::min(d.size(), entry.size() + 1));
    }
    live_.push_back({std::move(r), next_, size});
    next_ += size;
  }

  const std::vector<std::byte>& bytes() const { return bytes_; }
  uint32_t first_index() const { return first_; }
  uint32_t next_index() const { return next_; }
  const std::deque<Stored>& live() const { return live_; }
  // What the reader must return: the live records numbered from 0.
  std::vector<linux_kernel::LogRecord> live_records() const {
    std::vector<linux_kernel::LogRecord> v;
    for (const Stored& s : live_) {
      v.push_back(s.record);
      v.back().seq = v.size() - 1;
    }
    return v;
  }

 private:
  template <typename T>
  void put(uint32_t at, T value) {
    std::memcpy(bytes_.data() + at, &value, sizeof value);
  }
  bool has_space(uint32_t size) const {
    auto len = static_cast<uint32_t>(bytes_.size());
    uint32_t free = next_ > first_ || live_.empty() ? std::max(len - next_, first_) : first_ - next_;
    return free >= size + l_.header;
  }
  void drop_first() {
    live_.pop_front();
    first_ = live_.empty() ? next_ : live_.front().idx;
  }

  LegacyLayout l_;
  std::vector<std::byte> bytes_;
  uint32_t first_ = 0, next_ = 0;
  uint64_t count_ = 0;
  std::deque<Stored> live_;
};

}  // namespace coroner::test
