#include "symbols/name_scan.hpp"

#include "symbols/elf_file.hpp"

#include <llvm/DebugInfo/DWARF/DWARFContext.h>
#include <llvm/DebugInfo/DWARF/DWARFCompileUnit.h>
#include <llvm/DebugInfo/DWARF/DWARFUnit.h>
#include <llvm/Object/ObjectFile.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

namespace coroner::symbols {

namespace {

// What one thread scans at a time: small at first (most types are defined
// near the start of the section), growing to kChunkBytes.
constexpr size_t kFirstChunkBytes = size_t{1} << 20;
constexpr size_t kChunkBytes = size_t{8} << 20;
constexpr size_t kSampleBytes = size_t{1} << 20;  // of .debug_info, for byte frequencies
// What a thread reads at a time from its chunk, into a buffer it keeps: a
// new page of buffer costs a page fault (8-10 us each in a VM), so the
// buffer stays small and is reused rather than grown with the chunks.
constexpr size_t kReadBytes = size_t{1} << 20;

// Bytes to look for, with the position of their rarest byte: memchr on that
// one stops least often.
struct Pattern {
  std::string bytes;
  size_t anchor = 0;
};

// Appends the offsets (base + position) of every pattern that starts below
// `report` in data; data may run on past report by up to a pattern's length.
void scan_chunk(std::string_view data, size_t report, uint64_t base, const std::vector<Pattern>& patterns,
                std::vector<uint64_t>& hits) {
  const size_t first = hits.size();
  for (const Pattern& pattern : patterns) {
    const size_t length = pattern.bytes.size();
    if (data.size() < length) continue;
    const char anchor = pattern.bytes[pattern.anchor];
    const char* cursor = data.data() + pattern.anchor;
    const char* end = data.data() + (data.size() - length) + pattern.anchor + 1;
    while (cursor < end) {
      const void* found = std::memchr(cursor, anchor, static_cast<size_t>(end - cursor));
      if (found == nullptr) break;
      const char* at = static_cast<const char*>(found);
      const size_t start = static_cast<size_t>(at - data.data()) - pattern.anchor;
      if (start >= report) break;
      if (std::memcmp(data.data() + start, pattern.bytes.data(), length) == 0) hits.push_back(base + start);
      cursor = at + 1;
    }
  }
  std::sort(hits.begin() + static_cast<ptrdiff_t>(first), hits.end());
}

}  // namespace

// .debug_info and .debug_str, and how to read .debug_info without keeping it
// mapped: the scan reads all of it, and every mapped page would count in the
// process's resident size.
struct NameScanner::Section {
  llvm::StringRef info;
  llvm::StringRef str;
  bool little_endian = true;
  int fd = -1;  // the file holding info at file_offset, or -1: use info in memory
  uint64_t file_offset = 0;
  std::array<uint64_t, 256> byte_counts{};
  std::vector<std::vector<char>> buffers;  // one per scanning thread

  ~Section() {
    if (fd >= 0) ::close(fd);
  }

  // Bytes [begin, begin + size) of .debug_info, read into buffer when the
  // file backs them.
  Expected<std::string_view> read(const std::string& path, uint64_t begin, size_t size,
                                  std::vector<char>& buffer) const {
    if (fd < 0) return std::string_view(info.data() + begin, size);
    buffer.resize(size);
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pread(fd, buffer.data() + done, size - done, static_cast<off_t>(file_offset + begin + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        return make_error(Errc::io, "{}: reading .debug_info at offset {:#x}: {}", path, begin + done,
                          n < 0 ? std::strerror(errno) : "unexpected end of file");
      done += static_cast<size_t>(n);
    }
    return std::string_view(buffer.data(), size);
  }

  Pattern pattern(std::string bytes) const {
    Pattern p{std::move(bytes), 0};
    for (size_t i = 1; i < p.bytes.size(); ++i)
      if (byte_counts[static_cast<uint8_t>(p.bytes[i])] < byte_counts[static_cast<uint8_t>(p.bytes[p.anchor])])
        p.anchor = i;
    return p;
  }
};

// The search for one name: its patterns, the candidate units found so far
// (in offset order, each once), how far the scan and the walk have come, and
// the best entry seen per kind as (rank, DIE offset).
struct NameScanner::NameState {
  std::vector<Pattern> patterns;
  std::vector<llvm::DWARFUnit*> units;
  size_t walked = 0;
  uint64_t scanned = 0;
  unsigned batches = 0;
  std::array<std::optional<std::pair<uint8_t, uint64_t>>, static_cast<size_t>(NameKind::enumerator) + 1> best;
};

NameScanner::NameScanner(llvm::DWARFContext& context, std::string path, std::unique_ptr<Section> section)
    : context_(context), path_(std::move(path)), section_(std::move(section)) {}

NameScanner::~NameScanner() = default;

std::unique_ptr<NameScanner> NameScanner::create(llvm::DWARFContext& context, const llvm::object::ObjectFile& object,
                                                 const std::string& path) {
  if (object.isRelocatableObject()) return nullptr;
  for (std::string_view elsewhere : {".debug_str_offsets", ".gnu_debugaltlink", ".debug_sup"})
    if (find_section(object, elsewhere)) return nullptr;
  auto section = std::make_unique<Section>();
  int info_sections = 0;
  context.getDWARFObj().forEachInfoSections([&](const llvm::DWARFSection& info) {
    ++info_sections;
    section->info = info.Data;
  });
  if (info_sections != 1 || section->info.empty()) return nullptr;
  section->str = context.getDWARFObj().getStrSection();
  section->little_endian = context.isLittleEndian();

  const llvm::StringRef file = object.getData();
  if (section->info.data() >= file.data() && section->info.end() <= file.end()) {
    section->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    section->file_offset = static_cast<uint64_t>(section->info.data() - file.data());
  }
  std::vector<char> buffer;
  auto sample = section->read(path, 0, std::min<size_t>(kSampleBytes, section->info.size()), buffer);
  if (!sample) return nullptr;
  for (char byte : *sample) ++section->byte_counts[static_cast<uint8_t>(byte)];
  return std::unique_ptr<NameScanner>(new NameScanner(context, path, std::move(section)));
}

Expected<void> NameScanner::scan_more(NameState& state) const {
  const uint64_t total = section_->info.size();
  size_t longest = 0;
  for (const Pattern& pattern : state.patterns) longest = std::max(longest, pattern.bytes.size());
  const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  section_->buffers.resize(threads);
  std::vector<std::vector<uint64_t>> hits(threads);
  std::vector<std::optional<Error>> errors(threads);
  const size_t chunk = std::min(kChunkBytes, kFirstChunkBytes << std::min(state.batches++, 8u));
  auto work = [&](unsigned t) {
    const uint64_t chunk_begin = state.scanned + uint64_t{t} * chunk;
    const uint64_t chunk_end = std::min<uint64_t>(chunk_begin + chunk, total);
    for (uint64_t begin = chunk_begin; begin < chunk_end; begin += kReadBytes) {
      const size_t report = static_cast<size_t>(std::min<uint64_t>(kReadBytes, chunk_end - begin));
      // A pattern that starts in this stretch may end in the next.
      const size_t size = static_cast<size_t>(std::min<uint64_t>(report + longest, total - begin));
      auto data = section_->read(path_, begin, size, section_->buffers[t]);
      if (!data) {
        errors[t] = data.error();
        return;
      }
      scan_chunk(*data, report, begin, state.patterns, hits[t]);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (std::thread& thread : pool) thread.join();
  for (auto& error : errors)
    if (error) return *error;

  const uint64_t scanned_to = std::min<uint64_t>(total, state.scanned + uint64_t{threads} * chunk);
  scanned_bytes_ += scanned_to - state.scanned;
  state.scanned = scanned_to;
  for (const auto& part : hits)
    for (uint64_t hit : part) {
      // Type units and gaps between units hold no indexed names.
      llvm::DWARFUnit* unit = context_.getCompileUnitForOffset(hit);
      if (unit != nullptr && (state.units.empty() || state.units.back()->getOffset() < unit->getOffset()))
        state.units.push_back(unit);
    }
  return {};
}

Expected<std::optional<uint64_t>> NameScanner::find(NameKind kind, std::string_view name) const {
  CORONER_TRY(answer, find_within(kind, name, Budget{}));
  return answer.die_offset;
}

Expected<NameScanner::Answer> NameScanner::find_within(NameKind kind, std::string_view name, Budget budget) const {
  if (name.empty()) return Answer{true, std::nullopt};
  std::lock_guard lock(mutex_);
  auto it = names_.find(name);
  if (it == names_.end()) {
    auto state = std::make_unique<NameState>();
    // Every place in .debug_str that reads as the name: a reference may
    // point into the tail of a longer string the linker merged it with.
    std::string needle(name);
    needle.push_back('\0');
    const std::string_view strings(section_->str.data(), section_->str.size());
    for (size_t at = strings.find(needle); at != std::string_view::npos; at = strings.find(needle, at + 1)) {
      const size_t width = at > UINT32_MAX ? 8 : 4;  // DWARF32 offsets (DWARF64's low half matches too)
      std::string bytes(width, '\0');
      for (size_t i = 0; i < width; ++i) {
        const size_t shift = 8 * (section_->little_endian ? i : width - 1 - i);
        bytes[i] = static_cast<char>(static_cast<uint64_t>(at) >> shift);
      }
      state->patterns.push_back(section_->pattern(std::move(bytes)));
    }
    state->patterns.push_back(section_->pattern(needle));  // DW_FORM_string
    it = names_.emplace(std::string(name), std::move(state)).first;
  }
  NameState& state = *it->second;
  const auto& best = state.best[static_cast<size_t>(kind)];
  std::vector<UnitEntry> entries;
  for (;;) {
    if (best && best->first == 0) return Answer{true, best->second};
    if (scanned_bytes_ > budget.bytes || walked_units_ > budget.units) return Answer{false, std::nullopt};
    if (state.walked < state.units.size()) {
      entries.clear();
      CORONER_CHECK(index_unit(*state.units[state.walked++], path_, entries));
      ++walked_units_;
      for (const UnitEntry& entry : entries) {
        if (entry.name != name) continue;
        auto& kept = state.best[static_cast<size_t>(entry.kind)];
        if (!kept || std::make_pair(entry.rank, entry.die_offset) < *kept) kept = std::make_pair(entry.rank, entry.die_offset);
      }
      continue;
    }
    if (state.scanned >= section_->info.size()) {
      return Answer{true, best ? std::optional<uint64_t>(best->second) : std::nullopt};
    }
    CORONER_CHECK(scan_more(state));
  }
}

}  // namespace coroner::symbols
