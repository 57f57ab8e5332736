// The on-disk form of a sorted SymbolTable. Layout (little-endian): a
// 48-byte header {magic "CORONSYM", u32 version, u32 symbol count, u64 ELF
// file size, u32 section count, u32 flags, u64 names size, i64 slide}; per symbol
// {u64 address, u64 size, u32 name offset, u32 name length, u16 section
// (0xffff: none), char nm letter, u8 STT_FUNC | STT_OBJECT << 1}; the
// section names (u32 length + bytes each); the symbol names; the trailer of
// cache_file.hpp, keyed by the build-id. The name index is rebuilt on load.
#include "symbols/cache_file.hpp"
#include "symbols/elf_symbols.hpp"
#include "symbols/large_buffer.hpp"

#include <filesystem>
#include <unordered_map>

namespace coroner::symbols {

namespace {

constexpr char kMagic[8] = {'C', 'O', 'R', 'O', 'N', 'S', 'Y', 'M'};
constexpr uint32_t kVersion = 5;  // 5: __per_cpu_load and __init_begin move with KASLR
constexpr size_t kHeaderSize = 48;
constexpr size_t kRecordSize = 28;
constexpr uint16_t kNoSection = 0xffff;

template <typename T>
void put_scalar(char* at, T value) {
  std::memcpy(at, &value, sizeof value);
}

// Bounds-checked reading of the cache bytes.
class Reader {
 public:
  Reader(const CacheBytes& bytes, size_t offset) : bytes_(bytes), offset_(offset) {}
  bool take(size_t size, const char** out) {
    if (size > bytes_.size() - offset_) return false;
    *out = bytes_.data() + offset_;
    offset_ += size;
    return true;
  }
  size_t offset() const { return offset_; }

 private:
  const CacheBytes& bytes_;
  size_t offset_;
};

}  // namespace

std::string symbol_cache_path(const std::string& cache_dir, const std::string& build_id) {
  return (std::filesystem::path(cache_dir) / (build_id + ".symbols")).string();
}

std::string SymbolTable::serialize(uint64_t elf_size) const {
  // Section ids: symbols in address order come in runs of one section.
  std::unordered_map<std::string_view, uint16_t> section_ids;
  std::vector<std::string_view> sections;
  std::vector<uint16_t> symbol_sections(symbols_.size(), kNoSection);
  uint64_t names_size = 0, sections_size = 0;
  std::string_view last;
  uint16_t last_id = kNoSection;
  for (size_t i = 0; i < symbols_.size(); ++i) {
    const Symbol& symbol = symbols_[i];
    names_size += symbol.name.size();
    if (symbol.section.empty()) continue;
    if (symbol.section != last) {
      auto [it, added] = section_ids.emplace(symbol.section, static_cast<uint16_t>(sections.size()));
      if (added) {
        sections.push_back(symbol.section);
        sections_size += 4 + symbol.section.size();
      }
      last = symbol.section;
      last_id = it->second;
    }
    symbol_sections[i] = last_id;
  }
  if (sections.size() >= kNoSection) return {};  // ids would not fit: not cached
  std::string out;
  out.reserve(kHeaderSize + symbols_.size() * kRecordSize + sections_size + names_size);
  out.append(kMagic, sizeof kMagic);
  store_scalar<uint32_t>(out, kVersion);
  store_scalar<uint32_t>(out, static_cast<uint32_t>(symbols_.size()));
  store_scalar<uint64_t>(out, elf_size);
  store_scalar<uint32_t>(out, static_cast<uint32_t>(sections.size()));
  store_scalar<uint32_t>(out, (relocatable_ ? 1u : 0u) | (zero_based_percpu_ ? 2u : 0u));
  store_scalar<uint64_t>(out, names_size);
  store_scalar<int64_t>(out, slide_);
  const size_t records = out.size();
  out.resize(records + symbols_.size() * kRecordSize);
  char* record = out.data() + records;
  uint32_t name_offset = 0;
  for (size_t i = 0; i < symbols_.size(); ++i, record += kRecordSize) {
    const Symbol& symbol = symbols_[i];
    put_scalar<uint64_t>(record, symbol.address);
    put_scalar<uint64_t>(record + 8, symbol.size);
    put_scalar<uint32_t>(record + 16, name_offset);
    put_scalar<uint32_t>(record + 20, static_cast<uint32_t>(symbol.name.size()));
    put_scalar<uint16_t>(record + 24, symbol_sections[i]);
    record[26] = symbol.type;
    record[27] = static_cast<char>((symbol.is_function ? 1 : 0) | (symbol.is_object ? 2 : 0));
    name_offset += static_cast<uint32_t>(symbol.name.size());
  }
  for (std::string_view section : sections) {
    store_scalar<uint32_t>(out, static_cast<uint32_t>(section.size()));
    out += section;
  }
  for (const Symbol& symbol : symbols_) out += symbol.name;
  return out;
}

std::optional<SymbolTable> SymbolTable::deserialize(const CacheBytes& bytes, uint64_t elf_size) {
  if (bytes.size() < kHeaderSize || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) return std::nullopt;
  const char* header = bytes.data();
  const uint64_t count = load_scalar<uint32_t>(header + 12);
  const uint32_t section_count = load_scalar<uint32_t>(header + 24);
  const uint32_t flags = load_scalar<uint32_t>(header + 28);
  const uint64_t names_size = load_scalar<uint64_t>(header + 32);
  const int64_t slide = load_scalar<int64_t>(header + 40);
  if (load_scalar<uint32_t>(header + 8) != kVersion || load_scalar<uint64_t>(header + 16) != elf_size) return std::nullopt;
  // Sizes are checked against the file before anything is allocated from them.
  if (count > bytes.size() / kRecordSize || section_count > kNoSection) return std::nullopt;

  Reader reader(bytes, kHeaderSize);
  const char* records = nullptr;
  if (!reader.take(count * kRecordSize, &records)) return std::nullopt;
  std::vector<std::string> sections;
  for (uint32_t i = 0; i < section_count; ++i) {
    const char* length = nullptr;
    const char* text = nullptr;
    if (!reader.take(4, &length) || !reader.take(load_scalar<uint32_t>(length), &text)) return std::nullopt;
    sections.emplace_back(text, load_scalar<uint32_t>(length));
  }
  const char* names = nullptr;
  if (!reader.take(names_size, &names) || reader.offset() != bytes.size()) return std::nullopt;

  SymbolTable table;
  table.relocatable_ = flags & 1;
  table.zero_based_percpu_ = flags & 2;
  table.slide_ = slide;
  reserve_large(table.symbols_, count);
  table.symbols_.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    const char* record = records + i * kRecordSize;
    const uint64_t name_offset = load_scalar<uint32_t>(record + 16);
    const uint64_t name_length = load_scalar<uint32_t>(record + 20);
    const uint16_t section = load_scalar<uint16_t>(record + 24);
    if (name_offset + name_length > names_size || (section != kNoSection && section >= sections.size()))
      return std::nullopt;
    Symbol& symbol = table.symbols_[i];
    symbol.address = load_scalar<uint64_t>(record);
    symbol.size = load_scalar<uint64_t>(record + 8);
    symbol.name.assign(names + name_offset, name_length);
    if (section != kNoSection) symbol.section = sections[section];
    symbol.type = record[26];
    symbol.is_function = record[27] & 1;
    symbol.is_object = record[27] & 2;
    // Lookups binary-search by address: the order must hold.
    if (i > 0 && table.symbols_[i - 1].address > symbol.address) return std::nullopt;
  }
  return table;
}

}  // namespace coroner::symbols
