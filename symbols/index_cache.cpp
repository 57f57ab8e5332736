#include "symbols/index_cache.hpp"
#include "symbols/cache_file.hpp"
#include "symbols/large_buffer.hpp"

#include <cstring>
#include <filesystem>
#include <tuple>

namespace coroner::symbols {

namespace {

constexpr char kMagic[8] = {'C', 'O', 'R', 'O', 'N', 'I', 'D', 'X'};
constexpr uint32_t kVersion = 2;
constexpr size_t kHeaderSize = 32;
constexpr size_t kEntrySize = 16;
constexpr uint64_t kOffsetMask = (uint64_t{1} << 56) - 1;

}  // namespace

std::string index_cache_path(const std::string& cache_dir, const std::string& build_id) {
  return (std::filesystem::path(cache_dir) / (build_id + ".index")).string();
}

std::optional<NameIndex> load_index(const std::string& file, std::string_view build_id, uint64_t debug_info_size) {
  auto read = read_cache_file(file, build_id);
  if (!read) return std::nullopt;
  CacheBytes bytes = std::move(*read);
  if (bytes.size() < kHeaderSize || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) return std::nullopt;
  const char* header = bytes.data();
  const uint32_t version = load_scalar<uint32_t>(header + 8);
  const uint64_t count = load_scalar<uint32_t>(header + 12);
  const uint64_t cached_debug_info_size = load_scalar<uint64_t>(header + 16);
  const uint64_t names_size = load_scalar<uint64_t>(header + 24);
  if (version != kVersion || cached_debug_info_size != debug_info_size) return std::nullopt;
  // Checked against the real file size before anything is allocated from them.
  const uint64_t available = bytes.size() - kHeaderSize;
  if (count > available / kEntrySize || names_size != available - count * kEntrySize) return std::nullopt;

  const char* table = header + kHeaderSize;
  const uint64_t names_start = kHeaderSize + count * kEntrySize;
  std::vector<NameIndex::Entry> entries;
  reserve_large(entries, count);
  for (uint64_t i = 0; i < count; ++i) {
    const char* record = table + i * kEntrySize;
    const uint64_t name_offset = load_scalar<uint32_t>(record);
    const uint64_t name_length = load_scalar<uint32_t>(record + 4);
    const uint64_t packed = load_scalar<uint64_t>(record + 8);
    const uint64_t kind = packed >> 56;
    const uint64_t die_offset = packed & kOffsetMask;
    if (name_offset + name_length > names_size || kind < 1 || kind > static_cast<uint64_t>(NameKind::enumerator) ||
        die_offset >= debug_info_size)
      return std::nullopt;
    NameIndex::Entry entry{std::string_view(bytes.data() + names_start + name_offset, name_length),
                           static_cast<NameKind>(kind), die_offset};
    // Lookups binary-search: the order must hold, or answers would be wrong.
    if (!entries.empty() && !(std::tie(entries.back().kind, entries.back().name) < std::tie(entry.kind, entry.name)))
      return std::nullopt;
    entries.push_back(entry);
  }
  // The names stay in the mapping the index keeps.
  return NameIndex::adopt(std::move(entries), std::move(bytes));
}

Expected<void> save_index(const std::string& file, std::string_view build_id, const NameIndex& index,
                          uint64_t debug_info_size) {
  std::string table;
  std::string names;
  table.reserve(index.entries().size() * kEntrySize);
  for (const NameIndex::Entry& entry : index.entries()) {
    if (entry.die_offset > kOffsetMask || names.size() > UINT32_MAX || entry.name.size() > UINT32_MAX)
      return make_error(Errc::unsupported, "{}: index too large to cache", file);
    store_scalar<uint32_t>(table, static_cast<uint32_t>(names.size()));
    store_scalar<uint32_t>(table, static_cast<uint32_t>(entry.name.size()));
    store_scalar<uint64_t>(table, static_cast<uint64_t>(entry.kind) << 56 | entry.die_offset);
    names += entry.name;
  }
  std::string header(kMagic, sizeof kMagic);
  store_scalar<uint32_t>(header, kVersion);
  store_scalar<uint32_t>(header, static_cast<uint32_t>(index.entries().size()));
  store_scalar<uint64_t>(header, debug_info_size);
  store_scalar<uint64_t>(header, names.size());

  return write_cache_file(file, build_id, {header, table, names});
}

}  // namespace coroner::symbols
