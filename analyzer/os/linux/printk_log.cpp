#include "analyzer/os/linux/printk_log.hpp"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <map>
#include <optional>
#include <string_view>

namespace coroner::linux_kernel {

namespace {

// The kernel caps log_buf_len at 1 << 31 (LOG_BUF_LEN_MAX); the descriptor
// and info arrays of the lockless ring are smaller than its text ring.
constexpr uint64_t kMaxBufferBytes = uint64_t{1} << 31;
constexpr unsigned kMaxRingBits = 31;

// A kernel buffer copied out of the dump in one read, or page by page when
// some of it cannot be read; records in unreadable pages are skipped.
class BufferCopy {
 public:
  static Expected<BufferCopy> read(const KernelMemory& memory, uint64_t vaddr, uint64_t size,
                                   std::string_view what) {
    uint64_t ram = 0;
    for (const PhysRange& range : memory.physical().ranges()) ram += range.size;
    if (size > kMaxBufferBytes || (ram != 0 && size > ram))
      return make_error(Errc::corrupt, "{} at {:#x}: implausible size {:#x} bytes", what, vaddr, size);
    BufferCopy copy;
    copy.vaddr_ = vaddr;
    copy.bytes_.resize(size);
    if (memory.read(vaddr, copy.bytes_)) return copy;

    copy.page_ = memory.arch().page_size();
    uint64_t first_page = vaddr & ~(copy.page_ - 1);
    uint64_t pages = (vaddr + size - first_page + copy.page_ - 1) / copy.page_;
    for (uint64_t i = 0; i < pages; ++i) {
      uint64_t begin = std::max(vaddr, first_page + i * copy.page_);
      uint64_t end = std::min(vaddr + size, first_page + (i + 1) * copy.page_);
      auto got = memory.read(begin, std::span(copy.bytes_).subspan(begin - vaddr, end - begin));
      if (!got) copy.unreadable_.emplace(i, got.error());
    }
    if (copy.unreadable_.size() == pages) return copy.unreadable_.begin()->second.context(what);
    return copy;
  }

  uint64_t size() const { return bytes_.size(); }
  uint64_t address(uint64_t offset) const { return vaddr_ + offset; }

  // Ok when [offset, offset + length) lies inside the buffer and was read.
  Expected<void> check(uint64_t offset, uint64_t length) const {
    if (offset > size() || length > size() - offset)
      return make_error(Errc::corrupt, "{:#x} bytes at offset {:#x} lie outside the {:#x}-byte buffer at {:#x}",
                        length, offset, size(), vaddr_);
    if (unreadable_.empty() || length == 0) return {};
    uint64_t first_page = vaddr_ & ~(page_ - 1);
    auto hit = unreadable_.lower_bound((vaddr_ + offset - first_page) / page_);
    if (hit != unreadable_.end() && hit->first <= (vaddr_ + offset + length - 1 - first_page) / page_)
      return hit->second;
    return {};
  }

  template <typename T>
  T get(uint64_t offset) const {  // callers check() first
    T value{};
    std::memcpy(&value, bytes_.data() + offset, sizeof(T));
    return value;
  }
  std::string_view text(uint64_t offset, uint64_t length) const {
    return {reinterpret_cast<const char*>(bytes_.data()) + offset, length};
  }

 private:
  uint64_t vaddr_ = 0;
  std::vector<std::byte> bytes_;
  uint64_t page_ = 0;
  std::map<uint64_t, Error> unreadable_;  // page index -> why; empty when read at once
};

void note(std::vector<Error>* skipped, Error error) {
  if (skipped) skipped->push_back(std::move(error));
}

// The byte of the bit-fields flags:5 and level:3 (see the header). Of the
// flags (enum log_flags / printk_info_flags, the same bits in every layout)
// only LOG_CONT matters to a reader.
constexpr uint8_t kLogCont = 8;
void set_flags_and_level(uint8_t byte, LogRecord& rec) {
  rec.level = byte >> 5;
  rec.continuation = (byte & kLogCont) != 0;
}

// A NUL-terminated string inside a fixed-size field.
std::string fixed_string(std::string_view field) { return std::string(field.substr(0, field.find('\0'))); }

// Whether a field of `width` bytes at the sum of `offsets` lies inside a
// struct of `size` bytes. The offsets come from the dump, so no sum may wrap.
bool inside(uint64_t size, std::initializer_list<uint64_t> offsets, uint64_t width) {
  uint64_t at = 0;
  for (uint64_t o : offsets) {
    if (o > size - at) return false;
    at += o;
  }
  return width <= size - at;
}

// ---- lockless ring buffer (5.10+) ----

// Descriptor states (the top two bits of state_var), as in
// kernel/printk/printk_ringbuffer.h; 5.10's first version had separate
// committed and reusable bits, which map onto the same values.
constexpr unsigned kStateShift = 62;
constexpr uint64_t kIdMask = (uint64_t{1} << kStateShift) - 1;
constexpr uint64_t kStateCommitted = 1, kStateFinalized = 2;
// Data-less blocks have both lpos odd: NO_LPOS (3) for a record without
// text, FAILED_LPOS (1) for text that could not be stored.
constexpr uint64_t kNoLpos = 0x3;
constexpr uint64_t kBlockIdSize = 8;  // unsigned long id in front of each data block

struct RingLayout {
  uint64_t desc_ring, data_ring;                                    // in printk_ringbuffer
  uint64_t count_bits, descs, infos, head_id, tail_id, counter;     // in prb_desc_ring
  uint64_t size_bits, data;                                         // in prb_data_ring
  uint64_t desc_size, state_var, text_lpos, lpos_begin, lpos_next;  // prb_desc
  uint64_t info_size, seq, ts_nsec, text_len;                       // printk_info
  uint64_t facility;  // followed by the flags/level byte
  std::optional<uint64_t> caller_id;
  std::optional<uint64_t> subsystem, subsystem_len, device, device_len;  // within printk_info
};

Expected<RingLayout> ring_layout(const VmcoreInfo& info) {
  std::optional<Error> missing;  // the first key not found
  auto need = [&](Expected<uint64_t> value) {
    if (!value && !missing) missing = value.error();
    return value.value_or(0);
  };
  auto off = [&](std::string_view key) { return need(info.require_offset(key)); };
  RingLayout l{};
  l.desc_ring = off("printk_ringbuffer.desc_ring");
  l.data_ring = off("printk_ringbuffer.text_data_ring");
  l.count_bits = off("prb_desc_ring.count_bits");
  l.descs = off("prb_desc_ring.descs");
  l.infos = off("prb_desc_ring.infos");
  l.head_id = off("prb_desc_ring.head_id");
  l.tail_id = off("prb_desc_ring.tail_id");
  l.counter = info.offset("atomic_long_t.counter").value_or(0);
  l.size_bits = off("prb_data_ring.size_bits");
  l.data = off("prb_data_ring.data");
  l.desc_size = need(info.require_size("prb_desc"));
  l.state_var = off("prb_desc.state_var");
  l.text_lpos = off("prb_desc.text_blk_lpos");
  l.lpos_begin = off("prb_data_blk_lpos.begin");
  l.lpos_next = off("prb_data_blk_lpos.next");
  l.info_size = need(info.require_size("printk_info"));
  l.seq = off("printk_info.seq");
  l.ts_nsec = off("printk_info.ts_nsec");
  l.text_len = off("printk_info.text_len");
  if (missing) return *missing;
  l.caller_id = info.offset("printk_info.caller_id");
  // facility, then the flags/level byte (see the header).
  l.facility = info.offset("printk_info.dict_len").value_or(l.text_len) + 2;
  auto dev_info = info.offset("printk_info.dev_info");
  auto subsystem = info.offset("dev_printk_info.subsystem");
  auto device = info.offset("dev_printk_info.device");
  if (dev_info && subsystem && device) {
    l.subsystem = *dev_info + *subsystem;
    l.subsystem_len = info.length("printk_info_subsystem");
    l.device = *dev_info + *device;
    l.device_len = info.length("printk_info_device");
  }
  bool fits = inside(l.desc_size, {l.state_var, l.counter}, 8) &&
              inside(l.desc_size, {l.text_lpos, l.lpos_begin}, 8) &&
              inside(l.desc_size, {l.text_lpos, l.lpos_next}, 8) && inside(l.info_size, {l.seq}, 8) &&
              inside(l.info_size, {l.ts_nsec}, 8) && inside(l.info_size, {l.text_len}, 2) &&
              inside(l.info_size, {l.facility}, 2) && inside(l.info_size, {l.caller_id.value_or(0)}, 4) &&
              (!l.subsystem_len || inside(l.info_size, {*l.subsystem}, *l.subsystem_len)) &&
              (!l.device_len || inside(l.info_size, {*l.device}, *l.device_len));
  if (!fits)
    return make_error(Errc::corrupt, "VMCOREINFO: printk ring buffer offsets lie outside SIZE(prb_desc) {} or "
                                     "SIZE(printk_info) {}", l.desc_size, l.info_size);
  return l;
}

struct Ring {
  uint64_t count = 0;       // descriptors
  uint64_t data_size = 0;   // bytes of the text data ring
  uint64_t head_id = 0, tail_id = 0;
  uint64_t descs = 0, infos = 0, data = 0;  // virtual addresses
};

Expected<Ring> read_ring_header(const RingLayout& l, uint64_t prb, const KernelMemory& memory) {
  uint64_t desc_ring = prb + l.desc_ring, data_ring = prb + l.data_ring;
  Ring r;
  CORONER_TRY(count_bits, memory.read_u32(desc_ring + l.count_bits));
  CORONER_TRY(size_bits, memory.read_u32(data_ring + l.size_bits));
  if (count_bits > kMaxRingBits || size_bits > kMaxRingBits)
    return make_error(Errc::corrupt, "printk_ringbuffer at {:#x}: implausible count_bits {} / size_bits {}", prb,
                      count_bits, size_bits);
  r.count = uint64_t{1} << count_bits;
  r.data_size = uint64_t{1} << size_bits;
  CORONER_TRY(descs, memory.read_u64(desc_ring + l.descs));
  CORONER_TRY(infos, memory.read_u64(desc_ring + l.infos));
  CORONER_TRY(data, memory.read_u64(data_ring + l.data));
  CORONER_TRY(head, memory.read_u64(desc_ring + l.head_id + l.counter));
  CORONER_TRY(tail, memory.read_u64(desc_ring + l.tail_id + l.counter));
  r.descs = descs, r.infos = infos, r.data = data;
  r.head_id = head & kIdMask, r.tail_id = tail & kIdMask;
  return r;
}

// Offset and length of a record's text within the data ring, after the
// kernel's rules for data blocks: a block lies at DATA_INDEX(begin) unless
// it would wrap, in which case it was stored at the ring's start; every
// block starts with the id of its descriptor. nullopt for an empty record.
Expected<std::optional<std::pair<uint64_t, uint64_t>>> text_block(uint64_t begin, uint64_t next, uint64_t id,
                                                                   const BufferCopy& data) {
  uint64_t size = data.size();
  if ((begin & 1) && (next & 1)) {
    if (begin == kNoLpos && next == kNoLpos) return std::optional<std::pair<uint64_t, uint64_t>>();
    return make_error(Errc::not_found, "its text was never stored (lpos {:#x}..{:#x})", begin, next);
  }
  uint64_t block, length;
  if (begin / size == next / size && begin < next) {
    block = begin % size;
    length = next - begin;
  } else if ((begin + size) / size == next / size) {
    block = 0;
    length = next % size;
  } else {
    return make_error(Errc::corrupt, "invalid text block lpos {:#x}..{:#x}", begin, next);
  }
  if (begin % kBlockIdSize || next % kBlockIdSize || length < kBlockIdSize)
    return make_error(Errc::corrupt, "invalid text block lpos {:#x}..{:#x}", begin, next);
  // The id at the block's own position tells whether the text still
  // belongs to this record or was overwritten.
  CORONER_CHECK(data.check(begin % size, kBlockIdSize));
  CORONER_CHECK(data.check(block, length));
  uint64_t owner = data.get<uint64_t>(begin % size);
  if ((owner & kIdMask) != id)
    return make_error(Errc::corrupt, "its text block at {:#x} belongs to descriptor {:#x}",
                      data.address(begin % size), owner);
  return std::optional(std::pair(block + kBlockIdSize, length - kBlockIdSize));
}

Expected<std::vector<LogRecord>> read_lockless(const VmcoreInfo& info, uint64_t prb_symbol, const KernelMemory& memory,
                                               std::vector<Error>* skipped) {
  CORONER_TRY(l, ring_layout(info));
  CORONER_TRY(prb, memory.read_u64(prb_symbol));
  CORONER_TRY(r, read_ring_header(l, prb, memory));
  CORONER_TRY(descs, BufferCopy::read(memory, r.descs, r.count * l.desc_size, "printk descriptor ring"));
  CORONER_TRY(infos, BufferCopy::read(memory, r.infos, r.count * l.info_size, "printk info array"));
  CORONER_TRY(data, BufferCopy::read(memory, r.data, r.data_size, "printk text data ring"));

  // The kernel keeps head_id - tail_id below the descriptor count.
  uint64_t span = (r.head_id - r.tail_id) & kIdMask;
  uint64_t first = r.tail_id;
  if (span >= r.count) {
    note(skipped, make_error(Errc::corrupt, "printk ring: tail id {:#x} lies {} descriptors behind head id {:#x}, "
                             "more than the ring's {}; reading the newest {}", r.tail_id, span, r.head_id, r.count,
                             r.count));
    first = (r.head_id - (r.count - 1)) & kIdMask;
    span = r.count - 1;
  }

  std::vector<LogRecord> records;
  for (uint64_t n = 0; n <= span; ++n) {
    uint64_t id = (first + n) & kIdMask;
    uint64_t index = id % r.count;
    uint64_t desc = index * l.desc_size, inf = index * l.info_size;
    auto fail = [&](const Error& why) {
      note(skipped, why.context(fmt::format("printk record with descriptor id {:#x}", id)));
    };
    if (auto ok = descs.check(desc, l.desc_size); !ok) { fail(ok.error()); continue; }
    uint64_t state_var = descs.get<uint64_t>(desc + l.state_var + l.counter);
    uint64_t state = state_var >> kStateShift;
    // Another id here means the slot was recycled; other states are
    // records still being written or already given up.
    if ((state_var & kIdMask) != id || (state != kStateCommitted && state != kStateFinalized)) continue;
    if (auto ok = infos.check(inf, l.info_size); !ok) { fail(ok.error()); continue; }

    uint64_t begin = descs.get<uint64_t>(desc + l.text_lpos + l.lpos_begin);
    uint64_t next = descs.get<uint64_t>(desc + l.text_lpos + l.lpos_next);
    auto block = text_block(begin, next, id, data);
    if (!block) { fail(block.error()); continue; }

    LogRecord rec;
    rec.seq = infos.get<uint64_t>(inf + l.seq);
    rec.ts_nsec = infos.get<uint64_t>(inf + l.ts_nsec);
    rec.facility = infos.get<uint8_t>(inf + l.facility);
    set_flags_and_level(infos.get<uint8_t>(inf + l.facility + 1), rec);
    if (l.caller_id) rec.caller_id = infos.get<uint32_t>(inf + *l.caller_id);
    if (l.subsystem_len && l.device_len) {
      rec.subsystem = fixed_string(infos.text(inf + *l.subsystem, *l.subsystem_len));
      rec.device = fixed_string(infos.text(inf + *l.device, *l.device_len));
    }
    if (*block) {
      // text_len may exceed the block by a racing writer; keep what is there.
      uint64_t text_len = std::min<uint64_t>(infos.get<uint16_t>(inf + l.text_len), (*block)->second);
      rec.text = std::string(data.text((*block)->first, text_len));
    }
    records.push_back(std::move(rec));
  }
  return records;
}

// ---- legacy log_buf (3.5 to 5.9) ----

// SUBSYSTEM= and DEVICE= of a record's dictionary ("KEY=value\0KEY=value").
void parse_dictionary(std::string_view dict, LogRecord& rec) {
  while (!dict.empty()) {
    std::string_view entry = dict.substr(0, dict.find('\0'));
    dict.remove_prefix(std::min(dict.size(), entry.size() + 1));
    if (entry.starts_with("SUBSYSTEM=")) rec.subsystem = entry.substr(10);
    else if (entry.starts_with("DEVICE=")) rec.device = entry.substr(7);
  }
}

Expected<std::vector<LogRecord>> read_legacy(const VmcoreInfo& info, const KernelMemory& memory,
                                             std::vector<Error>* skipped) {
  if (info.symbol("log_end"))
    return make_error(Errc::unsupported, "the plain character log buffer of Linux before 3.5 (SYMBOL(log_end)) "
                                         "is not supported");
  // struct printk_log was struct log before 3.11.
  std::string_view type = info.size("printk_log") ? "printk_log" : "log";
  auto key = [&](std::string_view member) { return fmt::format("{}.{}", type, member); };
  CORONER_TRY(header, info.require_size(type));
  CORONER_TRY(ts_off, info.require_offset(key("ts_nsec")));
  CORONER_TRY(len_off, info.require_offset(key("len")));
  CORONER_TRY(text_len_off, info.require_offset(key("text_len")));
  auto caller_off = info.offset(key("caller_id"));
  // u16 dict_len, u8 facility and the flags/level byte follow text_len.
  uint64_t dict_len_off = text_len_off + 2, facility_off = text_len_off + 4;
  if (!inside(header, {ts_off}, 8) || !inside(header, {len_off}, 2) || !inside(header, {text_len_off}, 6) ||
      !inside(header, {caller_off.value_or(0)}, 4))
    return make_error(Errc::corrupt, "VMCOREINFO: struct {} offsets lie outside its size {}", type, header);

  CORONER_TRY(buf_sym, info.require_symbol("log_buf"));
  CORONER_TRY(len_sym, info.require_symbol("log_buf_len"));
  CORONER_TRY(first_sym, info.require_symbol("log_first_idx"));
  CORONER_TRY(next_sym, info.require_symbol("log_next_idx"));
  CORONER_TRY(buf_addr, memory.read_u64(buf_sym));
  CORONER_TRY(buf_len, memory.read_u32(len_sym));
  CORONER_TRY(first_idx, memory.read_u32(first_sym));
  CORONER_TRY(next_idx, memory.read_u32(next_sym));
  if (buf_len < header || first_idx >= buf_len || next_idx >= buf_len)
    return make_error(Errc::corrupt, "log_buf at {:#x}: length {:#x} with first index {:#x} and next index {:#x}",
                      buf_addr, buf_len, first_idx, next_idx);
  CORONER_TRY(buf, BufferCopy::read(memory, buf_addr, buf_len, "log_buf"));

  std::vector<LogRecord> records;
  uint64_t idx = first_idx;
  bool wrapped = false;  // a second wrap marker without a record between is corrupt
  bool stopped = false;
  auto stop = [&](const Error& why) {
    note(skipped, why.context(fmt::format("log_buf record at {:#x} and all after it", buf.address(idx))));
    stopped = true;
  };
  // Every record is at least a header long, which bounds the walk.
  uint64_t steps = 0;
  for (; idx != next_idx && steps <= buf_len / header + 1; ++steps) {
    if (auto ok = buf.check(idx, header); !ok) { stop(ok.error()); break; }
    uint64_t len = buf.get<uint16_t>(idx + len_off);
    if (len == 0) {  // the end-of-buffer marker: continue at the start
      if (wrapped) { stop(make_error(Errc::corrupt, "a second wrap marker")); break; }
      wrapped = true;
      idx = 0;
      continue;
    }
    wrapped = false;
    uint64_t text_len = buf.get<uint16_t>(idx + text_len_off);
    uint64_t dict_len = buf.get<uint16_t>(idx + dict_len_off);
    if (len < header + text_len + dict_len || len > buf_len - idx) {
      stop(make_error(Errc::corrupt, "record length {:#x} does not hold its header and {} + {} bytes of text and "
                      "dictionary within the buffer", len, text_len, dict_len));
      break;
    }
    if (auto ok = buf.check(idx + header, text_len + dict_len); !ok) {
      note(skipped, ok.error().context(fmt::format("log_buf record at {:#x}", buf.address(idx))));
    } else {
      LogRecord rec;
      rec.ts_nsec = buf.get<uint64_t>(idx + ts_off);
      rec.facility = buf.get<uint8_t>(idx + facility_off);
      set_flags_and_level(buf.get<uint8_t>(idx + facility_off + 1), rec);
      if (caller_off) rec.caller_id = buf.get<uint32_t>(idx + *caller_off);
      rec.text = std::string(buf.text(idx + header, text_len));
      parse_dictionary(buf.text(idx + header + text_len, dict_len), rec);
      records.push_back(std::move(rec));
    }
    idx += len;
  }
  if (idx != next_idx && !stopped) stop(make_error(Errc::corrupt, "records never reach log_next_idx {:#x}", next_idx));
  // Sequence numbers count records, not steps (wrap markers are steps too).
  for (size_t i = 0; i < records.size(); ++i) records[i].seq = i;
  return records;
}

}  // namespace

Expected<std::vector<LogRecord>> read_printk_log(const VmcoreInfo& info, const KernelMemory& memory,
                                                 std::vector<Error>* skipped) {
  auto prb = info.symbol("prb");
  if (!prb && !info.symbol("log_buf"))
    return make_error(Errc::not_found, "VMCOREINFO has neither SYMBOL(prb) (the lockless printk ring buffer of "
                                       "Linux 5.10+) nor SYMBOL(log_buf) (the log buffer of 3.5 to 5.9)");
  std::vector<Error> problems;
  auto result = prb ? read_lockless(info, *prb, memory, &problems) : read_legacy(info, memory, &problems);
  if (!result) return result.error().context("kernel log");
  // Nothing readable at all is a failure, not an empty log.
  if (result->empty() && !problems.empty()) return problems.front().context("kernel log");
  if (skipped) skipped->insert(skipped->end(), problems.begin(), problems.end());
  return result;
}

std::string log_timestamp(const LogRecord& record) {
  return fmt::format("[{:5}.{:06}] ", record.ts_nsec / 1000000000, record.ts_nsec % 1000000000 / 1000);
}

std::string format_log_line(const LogRecord& record) {
  return format_log_text(log_timestamp(record), record) + '\n';
}

std::string format_log_text(std::string_view prefix, const LogRecord& record) {
  std::string line(prefix);
  size_t indent = line.size();
  for (char c : record.text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      line += '\n';
      line.append(indent, ' ');
    } else if ((byte >= 0x20 && byte < 0x7f) || (byte >= '\t' && byte <= '\r')) {
      line += c;
    } else {
      line += fmt::format("\\x{:02x}", byte);
    }
  }
  return line;
}

}  // namespace coroner::linux_kernel
