#include "symbols/kallsyms_scan.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string_view>

namespace coroner::symbols {

namespace {

constexpr uint64_t kChunk = 1u << 20;
// The single-character tokens "0" to "9", each NUL-ended.
constexpr std::string_view kDigits("0\0" "1\0" "2\0" "3\0" "4\0" "5\0" "6\0" "7\0" "8\0" "9\0", 20);
// A token table is a few KB: how far from its digits its ends may lie.
constexpr uint64_t kMaxTokenTable = 16 * 1024;
// Every 256th name has a marker: at most this many markers, of 8 bytes at most.
constexpr uint64_t kMaxMarkers = kMaxKallsyms / 256;
// The last 256 names after the last marker: a length of up to two bytes,
// then up to 512 token bytes each.
constexpr uint64_t kMaxLastNames = 256 * 514;

uint64_t align8(uint64_t value) { return (value + 7) & ~uint64_t{7}; }

template <typename T>
T load(const std::vector<std::byte>& bytes, uint64_t at) {
  T value;
  std::memcpy(&value, bytes.data() + at, sizeof(T));
  return value;
}

// `length` bytes at `address`, or nothing when they cannot all be read.
std::optional<std::vector<std::byte>> read_all(const ReadKernelMemory& read, uint64_t address, uint64_t length) {
  auto bytes = read(address, length);
  if (!bytes || bytes->size() != length) return std::nullopt;
  return std::move(*bytes);
}

// `length` bytes at `address`: a page that cannot be read reads as zeros (a
// filtered dump leaves out the image's pages of zeros); nothing when no page can.
std::optional<std::vector<std::byte>> read_pages(const ReadKernelMemory& read, uint64_t address, uint64_t length) {
  if (auto whole = read_all(read, address, length)) return whole;
  constexpr uint64_t kPage = 4096;
  std::vector<std::byte> bytes(length);
  bool any = false;
  for (uint64_t at = 0; at < length;) {
    const uint64_t piece = std::min(kPage - (address + at) % kPage, length - at);
    if (auto page = read_all(read, address + at, piece)) {
      std::copy(page->begin(), page->end(), bytes.begin() + static_cast<long>(at));
      any = true;
    }
    at += piece;
  }
  if (!any) return std::nullopt;
  return bytes;
}

struct TokenTables {
  uint64_t table = 0, index = 0;
};

// The token table holding the digits at `digits` and the index after it:
// 256 rising u16 offsets, each of a token that ends with the only NUL in it,
// the last token ending where the index starts (8-byte aligned).
std::optional<TokenTables> token_tables_around(uint64_t digits, const ReadKernelMemory& read) {
  if (digits < kMaxTokenTable) return std::nullopt;
  const uint64_t base = digits - kMaxTokenTable;
  auto bytes = read_pages(read, base, 2 * kMaxTokenTable + 512);
  if (!bytes) return std::nullopt;
  for (uint64_t index = align8(digits + kDigits.size()); index < digits + kMaxTokenTable; index += 8) {
    const uint64_t at = index - base;
    if (load<uint16_t>(*bytes, at) != 0) continue;
    const uint16_t zero_offset = load<uint16_t>(*bytes, at + 2 * '0');
    if (zero_offset > digits - base || (digits - zero_offset) % 8 != 0) continue;
    const uint64_t table = digits - zero_offset - base;  // offset in bytes
    bool fits = true;
    for (int i = 0; i < 256 && fits; ++i) {
      const uint64_t from = table + load<uint16_t>(*bytes, at + 2 * i);
      const uint64_t to = i < 255 ? table + load<uint16_t>(*bytes, at + 2 * (i + 1)) : at;
      // Token i runs from `from` to its NUL; the next one (or padding before the index) follows.
      if (to <= from + 1) { fits = false; break; }
      uint64_t nul = from;
      while (nul < to && (*bytes)[nul] != std::byte{0}) ++nul;
      fits = nul > from && (i < 255 ? nul + 1 == to : align8(base + nul + 1) == index);
    }
    if (fits) return TokenTables{base + table, index};
  }
  return std::nullopt;
}

struct Markers {
  uint64_t address = 0;
  std::vector<uint64_t> offsets;
};

// The markers of `width` bytes that end at offset `end` of `bytes` (read at
// `base`; a u32 table of odd length is padded to 8 bytes): rising from 0 at
// an 8-byte aligned start.
std::optional<Markers> markers_ending(const std::vector<std::byte>& bytes, uint64_t base, uint64_t end,
                                      unsigned width) {
  auto value = [&](uint64_t at) { return width == 4 ? load<uint32_t>(bytes, at) : load<uint64_t>(bytes, at); };
  if (width == 4 && end >= 8 && value(end - 4) == 0 && value(end - 8) != 0) end -= 4;
  Markers markers;
  for (uint64_t at = end; at >= width;) {
    at -= width;
    const uint64_t offset = value(at);
    if (!markers.offsets.empty() && offset >= markers.offsets.back()) return std::nullopt;
    markers.offsets.push_back(offset);
    if (offset == 0) {
      markers.address = base + at;
      break;
    }
  }
  if (markers.offsets.size() < 2 || markers.offsets.back() != 0 || markers.address % 8 != 0) return std::nullopt;
  std::reverse(markers.offsets.begin(), markers.offsets.end());
  return markers;
}

// Where `count` name entries from `at` end, if they stay below `limit`.
std::optional<uint64_t> skip_names(const std::vector<std::byte>& bytes, uint64_t at, uint64_t count, uint64_t limit) {
  for (uint64_t i = 0; i < count; ++i) {
    if (at >= limit) return std::nullopt;
    uint64_t length = static_cast<uint8_t>(bytes[at++]);
    if (length & 0x80) {
      if (at >= limit) return std::nullopt;
      length = (length & 0x7f) | (uint64_t{static_cast<uint8_t>(bytes[at++])} << 7);
    }
    if (length == 0 || (at += length) > limit) return std::nullopt;
  }
  return at;
}

struct Names {
  uint64_t address = 0;
  uint32_t count = 0;
};

// kallsyms_names, ending (8-byte aligned) at the markers, its count in the
// word before it, every 256th entry where its marker says.
std::optional<Names> names_before(const Markers& markers, uint64_t start, const ReadKernelMemory& read) {
  const uint64_t last = markers.offsets.back();
  const uint64_t chunks = markers.offsets.size();
  if (markers.address - start < last + 16) return std::nullopt;
  // From 8-byte aligned `base`, offsets keep the alignment of addresses.
  const uint64_t base = std::max(markers.address - std::min(markers.address - start, last + kMaxLastNames + 8),
                                 start + 7) & ~uint64_t{7};
  auto bytes = read_pages(read, base, markers.address - base);
  if (!bytes) return std::nullopt;
  const uint64_t limit = markers.address - base;
  // The names start 8-byte aligned, more than the last marker before the markers.
  for (uint64_t names = (limit - last - 1) & ~uint64_t{7}; names >= 8 + 8; names -= 8) {
    const uint32_t count = load<uint32_t>(*bytes, names - 8);
    if (count <= (chunks - 1) * 256 || count > chunks * 256) continue;
    auto end = skip_names(*bytes, names + last, count - (chunks - 1) * 256, limit);
    if (!end || align8(base + *end) != markers.address) continue;
    uint64_t at = names;
    bool fits = true;
    for (uint64_t k = 0; k + 1 < chunks && fits; ++k) {
      auto next = at == names + markers.offsets[k] ? skip_names(*bytes, at, 256, limit) : std::nullopt;
      fits = next.has_value();
      if (fits) at = *next;
    }
    if (fits && at == names + last) return Names{base + names, count};
  }
  return std::nullopt;
}

// The four address layouts of the tables found.
std::vector<KallsymsTables> layouts(const TokenTables& tokens, const Names& names) {
  KallsymsTables found{.num_syms = names.address - 8, .names = names.address, .token_table = tokens.table,
                       .token_index = tokens.index};
  const uint64_t count = names.count;
  const uint64_t after = align8(tokens.index + 512);
  KallsymsTables relative_before = found, absolute_before = found, relative_after = found, absolute_after = found;
  relative_before.relative_base = names.address - 16;
  relative_before.offsets = relative_before.relative_base - align8(4 * count);
  absolute_before.addresses = names.address - 8 - 8 * count;
  relative_after.offsets = after;
  relative_after.relative_base = align8(after + 4 * count);
  absolute_after.addresses = after;
  return {relative_before, absolute_before, relative_after, absolute_after};
}

std::optional<std::vector<KallsymsTables>> tables_around(uint64_t digits, uint64_t start,
                                                         const ReadKernelMemory& read) {
  auto tokens = token_tables_around(digits, read);
  if (!tokens) return std::nullopt;
  // The markers end at the token table, or (since Linux 6.1's
  // kallsyms_seqs_of_names, 3 bytes a symbol) that far before it.
  const uint64_t span = std::min(kMaxMarkers * 8 + 3 * uint64_t{kMaxKallsyms} + 16, tokens->table - start);
  const uint64_t base = tokens->table - span;
  auto bytes = read_pages(read, base, span);
  if (!bytes) return std::nullopt;
  for (unsigned width : {4u, 8u}) {
    auto markers = markers_ending(*bytes, base, span, width);
    if (!markers) continue;
    if (auto names = names_before(*markers, start, read)) return layouts(*tokens, *names);
  }
  for (uint64_t end = span - 8; end >= 8; end -= 8) {
    auto markers = markers_ending(*bytes, base, end, 4);
    if (!markers) continue;
    const uint64_t chunks = markers->offsets.size(), gap = span - end;
    if (gap < align8(3 * ((chunks - 1) * 256 + 1)) || gap > align8(3 * chunks * 256)) continue;
    if (auto names = names_before(*markers, start, read)) return layouts(*tokens, *names);
  }
  return std::nullopt;
}

}  // namespace

Expected<std::vector<KallsymsTables>> scan_kallsyms_tables(uint64_t start, uint64_t end, const ReadKernelMemory& read) {
  for (uint64_t chunk = start; chunk < end; chunk += kChunk) {
    auto bytes = read_pages(read, chunk, std::min(kChunk + kDigits.size(), end - chunk));
    if (!bytes) continue;
    const auto* data = reinterpret_cast<const char*>(bytes->data());
    const std::string_view text(data, bytes->size());
    for (size_t at = text.find(kDigits); at != std::string_view::npos; at = text.find(kDigits, at + 1))
      if (auto found = tables_around(chunk + at, start, read)) return std::move(*found);
  }
  return make_error(Errc::not_found, "kallsyms: no kallsyms_token_table with its index, markers and names between "
                                     "{:#x} and {:#x}",
                    start, end);
}

}  // namespace coroner::symbols
