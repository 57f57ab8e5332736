#include "symbols/kallsyms.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string_view>
#include <string>

namespace coroner::symbols {

namespace {

// A name expands to at most KSYM_NAME_LEN (512 since Linux 6.1) characters;
// a token is a few characters merged by scripts/kallsyms.
constexpr size_t kMaxName = 1024;
constexpr size_t kMaxToken = 256;

// Sequential byte reads through the callback, a window at a time. A window
// that cannot be read whole (it runs into an unmapped or excluded page)
// shrinks to the rest of the page that holds the byte wanted, then to the byte.
class MemoryWindow {
 public:
  explicit MemoryWindow(const ReadKernelMemory& read) : read_(read) {}

  Expected<uint8_t> byte(uint64_t address, const char* table) {
    if (address < start_ || address - start_ >= bytes_.size()) {
      constexpr uint64_t kWindow = 64 * 1024, kPage = 4096;
      auto read = read_(address, kWindow);
      if (!read) read = read_(address, kPage - address % kPage);
      if (!read) read = read_(address, 1);
      if (!read || read->empty())
        return make_error(read ? Errc::truncated : read.error().code(), "{} at {:#x}: cannot read: {}", table,
                          address, read ? std::string("no bytes") : read.error().message());
      start_ = address;
      bytes_ = std::move(*read);
    }
    return static_cast<uint8_t>(bytes_[address - start_]);
  }

 private:
  const ReadKernelMemory& read_;
  uint64_t start_ = 0;
  std::vector<std::byte> bytes_;
};

template <typename T>
T little_endian_at(const std::vector<std::byte>& bytes, size_t index) {
  T value;
  std::memcpy(&value, bytes.data() + index * sizeof(T), sizeof(T));
  return value;
}

Expected<std::vector<std::byte>> read_exactly(const ReadKernelMemory& read, uint64_t address, size_t length,
                                              const char* table) {
  auto bytes = read(address, length);
  if (!bytes) return make_error(bytes.error().code(), "{} at {:#x}: cannot read: {}", table, address, bytes.error().message());
  if (bytes->size() != length)
    return make_error(Errc::truncated, "{} at {:#x}: {} of {} bytes read", table, address, bytes->size(), length);
  return bytes;
}

// The 256 tokens every compressed byte stands for.
Expected<std::array<std::string, 256>> read_tokens(const KallsymsTables& tables, const ReadKernelMemory& read) {
  CORONER_TRY(index, read_exactly(read, tables.token_index, 256 * sizeof(uint16_t), "kallsyms_token_index"));
  MemoryWindow window(read);
  std::array<std::string, 256> tokens;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const uint64_t start = tables.token_table + little_endian_at<uint16_t>(index, i);
    for (uint64_t at = start;; ++at) {
      CORONER_TRY(c, window.byte(at, "kallsyms_token_table"));
      if (c == 0) break;
      if (tokens[i].size() == kMaxToken)
        return make_error(Errc::corrupt, "kallsyms_token_table at {:#x}: token {} longer than {} bytes", start, i,
                          kMaxToken);
      tokens[i] += static_cast<char>(c);
    }
  }
  return tokens;
}

// Type letter + name of each symbol: a length (one byte, or two when the
// first has its top bit set, since Linux 6.1), then that many token bytes.
Expected<std::vector<std::string>> read_names(const KallsymsTables& tables, uint32_t count,
                                              const std::array<std::string, 256>& tokens,
                                              const ReadKernelMemory& read) {
  MemoryWindow window(read);
  std::vector<std::string> names;
  names.reserve(std::min<uint32_t>(count, 1u << 16));  // a hostile count fails at the table's end, not here
  uint64_t at = tables.names;
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t entry = at;
    CORONER_TRY(first, window.byte(at++, "kallsyms_names"));
    size_t length = first;
    if (first & 0x80) {
      CORONER_TRY(second, window.byte(at++, "kallsyms_names"));
      length = (first & 0x7f) | (size_t{second} << 7);
    }
    std::string& name = names.emplace_back();
    for (size_t k = 0; k < length; ++k) {
      CORONER_TRY(token, window.byte(at++, "kallsyms_names"));
      name += tokens[token];
      if (name.size() > kMaxName)
        return make_error(Errc::corrupt, "kallsyms_names at {:#x}: symbol {} longer than {} characters", entry, i,
                          kMaxName);
    }
    if (name.size() < 2)
      return make_error(Errc::corrupt, "kallsyms_names at {:#x}: symbol {} has no {}", entry, i,
                        name.empty() ? "type letter" : "name");
  }
  return names;
}

Expected<std::vector<uint64_t>> read_addresses(const KallsymsTables& tables, uint32_t count,
                                               const ReadKernelMemory& read) {
  std::vector<uint64_t> addresses(count);
  if (tables.addresses) {
    CORONER_TRY(bytes, read_exactly(read, tables.addresses, size_t{count} * 8, "kallsyms_addresses"));
    for (uint32_t i = 0; i < count; ++i) addresses[i] = little_endian_at<uint64_t>(bytes, i);
    return addresses;
  }
  if (!tables.offsets || !tables.relative_base)
    return make_error(Errc::not_found, "kallsyms: neither kallsyms_addresses nor kallsyms_offsets with "
                                       "kallsyms_relative_base is known");
  CORONER_TRY(base_bytes, read_exactly(read, tables.relative_base, 8, "kallsyms_relative_base"));
  const uint64_t base = little_endian_at<uint64_t>(base_bytes, 0);
  CORONER_TRY(bytes, read_exactly(read, tables.offsets, size_t{count} * 4, "kallsyms_offsets"));
  bool absolute_percpu = false;
  for (uint32_t i = 0; i < count; ++i) absolute_percpu |= little_endian_at<int32_t>(bytes, i) < 0;
  for (uint32_t i = 0; i < count; ++i) {
    const int32_t offset = little_endian_at<int32_t>(bytes, i);
    if (!absolute_percpu) addresses[i] = base + static_cast<uint32_t>(offset);
    else if (offset >= 0) addresses[i] = static_cast<uint64_t>(offset);
    else addresses[i] = base - 1 - static_cast<uint64_t>(static_cast<int64_t>(offset));
  }
  return addresses;
}

// kallsyms has no ELF symbol types: text symbols (weak ones too) stand for
// functions and data symbols for objects, except the linker's section
// bounds, which share an address with the first function or object and must
// not name it (io_schedule_timeout, not __sched_text_start+20): vmlinux has
// them as STT_NOTYPE, which SymbolTable ranks below functions and objects.
bool is_code(char type) { return type == 'T' || type == 't' || type == 'W' || type == 'w'; }
bool is_section_bound(std::string_view name) {
  for (std::string_view bound : {"_text", "_stext", "_etext", "_sinittext", "_einittext", "_sdata", "_edata", "_end",
                                 "__bss_start", "__bss_stop", "__init_begin", "__init_end"})
    if (name == bound) return true;
  return name.ends_with("_text_start") || name.ends_with("_text_end") || name.starts_with("__start_") ||
         name.starts_with("__stop_");
}
bool is_data(char type) {
  switch (type) {
    case 'D': case 'd': case 'B': case 'b': case 'R': case 'r': case 'V': case 'v': return true;
    default: return false;
  }
}

}  // namespace

Expected<std::vector<Symbol>> decode_kallsyms(const KallsymsTables& tables, const ReadKernelMemory& read) {
  CORONER_TRY(count_bytes, read_exactly(read, tables.num_syms, 4, "kallsyms_num_syms"));
  const uint32_t count = little_endian_at<uint32_t>(count_bytes, 0);
  if (count == 0 || count > kMaxKallsyms)
    return make_error(Errc::corrupt, "kallsyms_num_syms at {:#x}: {} symbols (a kernel has 1 to {})", tables.num_syms,
                      count, kMaxKallsyms);
  CORONER_TRY(tokens, read_tokens(tables, read));
  CORONER_TRY(names, read_names(tables, count, tokens, read));
  CORONER_TRY(addresses, read_addresses(tables, count, read));

  std::vector<Symbol> symbols(count);
  // A symbol ends where the next greater address starts (aliases share it);
  // an address that goes down (damaged table) leaves the size 0.
  std::optional<uint64_t> end;
  for (uint32_t i = count; i-- > 0;) {
    Symbol& s = symbols[i];
    s.type = names[i][0];
    s.name = names[i].substr(1);
    s.address = addresses[i];
    s.is_function = is_code(s.type) && !is_section_bound(s.name);
    s.is_object = is_data(s.type) && !is_section_bound(s.name);
    if (i + 1 < count && addresses[i + 1] != s.address)
      end = addresses[i + 1] > s.address ? std::optional<uint64_t>(addresses[i + 1]) : std::nullopt;
    s.size = end ? *end - s.address : 0;
  }
  return symbols;
}

}  // namespace coroner::symbols
