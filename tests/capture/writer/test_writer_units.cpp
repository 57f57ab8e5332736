// Synthetic tests of the dump writers' building blocks: the command line,
// the flattened stream, split ranges, note encoding, bitmaps and output
// files (mode 0600, no overwrite without -f).
#include "capture/format/byte_source.hpp"
#include "capture/format/elf_notes.hpp"
#include "capture/format/flattened.hpp"
#include "capture/options.hpp"
#include "capture/writer/dump_plan.hpp"
#include "capture/writer/kdump_writer.hpp"
#include "capture/writer/output_sink.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace coroner;
using namespace coroner::capture;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / fmt::format("coroner-writer-units-{}", getpid());
  fs::create_directories(dir);
  fs::remove(dir / name);
  return dir / name;
}

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

}  // namespace

TEST_CASE("command line follows makedumpfile's option names", "[capture][options]") {
  auto o = parse_options({"-c", "-d", "31", "--num-threads", "2", "/proc/vmcore", "out"});
  REQUIRE(o);
  CHECK(o->codec == PageCodec::zlib);
  CHECK(o->dump_level == 31);
  CHECK(o->num_threads == 2);
  CHECK(o->input == "/proc/vmcore");
  CHECK(o->outputs == std::vector<std::string>{"out"});

  auto bundled = parse_options({"-zd31", "--zstd-level=3", "-f", "in", "out"});
  REQUIRE(bundled);
  CHECK(bundled->codec == PageCodec::zstd);
  CHECK(bundled->zstd_level == 3);
  CHECK(bundled->dump_level == 31);
  CHECK(bundled->force);

  auto fast = parse_options({"-z", "--zstd-level=-3", "in", "out"});  // zstd's fast modes
  REQUIRE(fast);
  CHECK(fast->zstd_level == -3);

  auto split = parse_options({"--split", "-l", "-d", "1", "in", "a", "b", "c"});
  REQUIRE(split);
  CHECK(split->outputs.size() == 3);

  auto flat = parse_options({"-F", "-l", "in"});
  REQUIRE(flat);
  CHECK(flat->flatten);
  CHECK(parse_options({"--help"})->help);
  CHECK(parse_options({"--version"})->version);
}

TEST_CASE("bad command lines are usage errors with a reason", "[capture][options]") {
  const std::vector<std::vector<std::string>> bad = {
      {},                                        // no input
      {"in"},                                    // no output
      {"-c", "-l", "in", "out"},                 // two compressions
      {"-d", "32", "in", "out"},                 // level out of range
      {"-d", "x", "in", "out"},                  // not a number
      {"-d"},                                    // missing value
      {"--bogus", "in", "out"},                  // unknown long option
      {"-q", "in", "out"},                       // unknown short option
      {"in", "a", "b"},                          // two outputs without --split
      {"--split", "in", "a"},                    // --split with one output
      {"-F", "in", "out"},                       // -F takes no output
      {"-F", "--split", "in", "a", "b"},         // -F with --split
      {"-E", "-c", "in", "out"},                 // ELF is not compressed
      {"--zstd-level", "3", "-c", "in", "out"},  // level without -z
      {"--zstd-level", "0", "-z", "in", "out"},  // zstd level 0
      {"--num-threads", "-1", "in", "out"},
      {"--dump-dmesg", "-c", "in", "out"},
  };
  for (const auto& args : bad) {
    auto o = parse_options(args);
    INFO(fmt::format("{}", fmt::join(args, " ")));
    REQUIRE_FALSE(o);
    CHECK(o.error().code() == Errc::invalid_argument);
    CHECK_FALSE(o.error().message().empty());
  }
}

TEST_CASE("the flattened stream replays to the same bytes, later records winning", "[capture][flattened]") {
  fs::path path = scratch("stream.flat");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  REQUIRE(fd >= 0);
  {
    auto sink = open_flattened_output(fd, "stream");
    REQUIRE(sink);
    REQUIRE((*sink)->write_at(0, bytes_of("HEADER-incomplete")));
    REQUIRE((*sink)->write_at(8192, bytes_of("page data")));
    REQUIRE((*sink)->write_at(0, bytes_of("HEADER-complete!!")));
    REQUIRE((*sink)->write_at(100, {}));  // empty writes add no record
    REQUIRE((*sink)->finish());
  }
  ::close(fd);
  auto stream = open_file_source(path.string());
  REQUIRE(stream);
  auto file = open_flattened(*stream);
  REQUIRE(file);
  std::string head(17, '\0'), page(9, '\0');
  REQUIRE((*file)->read_at(0, std::as_writable_bytes(std::span(head.data(), head.size()))));
  REQUIRE((*file)->read_at(8192, std::as_writable_bytes(std::span(page.data(), page.size()))));
  CHECK(head == "HEADER-complete!!");
  CHECK(page == "page data");

  // makedumpfile -R agrees.
  fs::path out = scratch("stream.out");
  REQUIRE(std::system(fmt::format("makedumpfile -R {} < {} >/dev/null 2>&1", out.string(), path.string()).c_str()) == 0);
  std::ifstream in(out, std::ios::binary);
  std::string replayed((std::istreambuf_iterator<char>(in)), {});
  REQUIRE(replayed.size() == 8192 + 9);
  CHECK(replayed.substr(0, 17) == "HEADER-complete!!");
  CHECK(replayed.substr(8192) == "page data");
}

TEST_CASE("a flattened stream without its end record is refused", "[capture][flattened]") {
  fs::path path = scratch("cut.flat");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  REQUIRE(fd >= 0);
  {
    auto sink = open_flattened_output(fd, "cut");
    REQUIRE(sink);
    REQUIRE((*sink)->write_at(0, bytes_of("partial")));
  }
  ::close(fd);
  auto stream = open_file_source(path.string());
  REQUIRE(stream);
  CHECK_FALSE(open_flattened(*stream));
}

TEST_CASE("dump files are created mode 0600 and not overwritten without -f", "[capture][output]") {
  fs::path path = scratch("dump");
  {
    auto sink = open_output_file(path.string(), false);
    REQUIRE(sink);
    REQUIRE((*sink)->write_at(4096, bytes_of("x")));
    REQUIRE((*sink)->finish());
  }
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_size == 4097);

  auto again = open_output_file(path.string(), false);
  REQUIRE_FALSE(again);
  CHECK(again.error().message().find("-f") != std::string::npos);

  ::chmod(path.c_str(), 0644);
  auto forced = open_output_file(path.string(), true);
  REQUIRE(forced);
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_size == 0);
}

TEST_CASE("writes to a full device fail naming the file, offset and reason", "[capture][output]") {
  auto sink = open_output_file("/dev/full", false);
  REQUIRE(sink);
  CHECK((*sink)->keeps_stale_data());
  auto w = (*sink)->write_at(0x1234, bytes_of("data"));
  REQUIRE_FALSE(w);
  CHECK(w.error().message().find("/dev/full") != std::string::npos);
  CHECK(w.error().message().find("0x1234") != std::string::npos);
  CHECK(w.error().message().find("No space left") != std::string::npos);
}

namespace {

// split_parts over windows of `window_pfns` of `keep`; the windows it asks
// for are recorded in `asked`.
std::vector<KdumpPart> split_in_windows(const PfnBitmap& keep, uint64_t window_pfns, size_t count,
                                        std::vector<uint64_t>* asked = nullptr) {
  std::vector<uint64_t> kept;
  for (uint64_t start = 0; start < keep.max_pfn(); start += window_pfns) {
    kept.push_back(0);
    uint64_t end = std::min(keep.max_pfn(), start + window_pfns);
    for (uint64_t pfn = start; pfn < end; ++pfn) kept.back() += keep.test(pfn);
  }
  auto parts = split_parts(kept, window_pfns, keep.max_pfn(), count, [&](uint64_t start) -> Expected<const PfnBitmap*> {
    if (asked) asked->push_back(start);
    return &keep;
  });
  REQUIRE(parts);
  return *parts;
}

}  // namespace

TEST_CASE("split parts cover all page frames with balanced page counts", "[capture][split]") {
  PfnBitmap keep(1000);
  for (uint64_t pfn = 0; pfn < 1000; pfn += 3) keep.set(pfn);  // 334 pages
  auto parts = split_in_windows(keep, 1000, 3);
  REQUIRE(parts.size() == 3);
  CHECK(parts.front().start_pfn == 0);
  CHECK(parts.back().end_pfn == 1000);
  for (size_t i = 0; i + 1 < parts.size(); ++i) CHECK(parts[i].end_pfn == parts[i + 1].start_pfn);
  for (const KdumpPart& part : parts) {
    uint64_t n = 0;
    for (uint64_t pfn = part.start_pfn; pfn < part.end_pfn; ++pfn) n += keep.test(pfn);
    CHECK(part.split);
    CHECK(n >= 110);  // ceil(334 / 3) = 112 per part, the rest in the last
    CHECK(n <= 112);
  }
  // The same boundaries in windows, only the windows holding one scanned.
  for (uint64_t window_pfns : {64, 128, 192, 320, 999}) {
    INFO(window_pfns);
    std::vector<uint64_t> asked;
    auto windowed = split_in_windows(keep, window_pfns, 3, &asked);
    REQUIRE(windowed.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
      CHECK(windowed[i].start_pfn == parts[i].start_pfn);
      CHECK(windowed[i].end_pfn == parts[i].end_pfn);
    }
    CHECK(asked.size() <= 2);
    for (size_t i = 0; i < asked.size(); ++i) CHECK(asked[i] == (parts[i].end_pfn - 1) / window_pfns * window_pfns);
  }
  // More parts than pages: the extra parts are empty, still contiguous.
  PfnBitmap one(10);
  one.set(4);
  for (uint64_t window_pfns : {10, 64}) {
    auto sparse = split_in_windows(one, window_pfns, 3);
    REQUIRE(sparse.size() == 3);
    CHECK(sparse[0].end_pfn == 5);
    CHECK(sparse[1].start_pfn == 5);
    CHECK(sparse[2].end_pfn == 10);
  }
}

TEST_CASE("bitmaps are stored as kdump does: pfn N is bit N % 8 of byte N / 8", "[capture][bitmap]") {
  PfnBitmap bits(20);
  bits.set(0);
  bits.set(9);
  bits.set(19);
  auto bytes = bitmap_bytes(bits, 0, 4096);
  REQUIRE(bytes.size() == 4096);
  CHECK(bytes[0] == std::byte{0x01});
  CHECK(bytes[1] == std::byte{0x02});
  CHECK(bytes[2] == std::byte{0x08});
  CHECK(bytes[3] == std::byte{0});
}

TEST_CASE("bitmap bytes from an offset and from pfn runs match the whole bitmap's", "[capture][bitmap]") {
  std::vector<PfnRun> runs{{3, 5}, {8, 30}, {64, 200}, {203, 204}};
  PfnBitmap bits(300);
  for (const PfnRun& run : runs) bits.set_range(run.first, run.end);
  auto whole = bitmap_bytes(bits, 0, 40);
  CHECK(whole[0] == std::byte{0x18});  // pfns 3, 4
  CHECK(whole[1] == std::byte{0xff});
  CHECK(whole[3] == std::byte{0x3f});  // pfns 24..29
  CHECK(bitmap_bytes(runs, 0, 40) == whole);
  for (uint64_t offset : {1, 7, 8, 9, 25}) {
    std::vector<std::byte> part(whole.begin() + offset, whole.begin() + offset + 12);
    CHECK(bitmap_bytes(bits, offset, 12) == part);
    CHECK(bitmap_bytes(runs, offset, 12) == part);
  }
}

TEST_CASE("encoded notes parse back to the same notes", "[capture][notes]") {
  std::vector<ElfNote> notes = {
      {"CORE", kNtPrstatus, std::vector<std::byte>(336, std::byte{7}), 0},
      {"VMCOREINFO", kNtVmcoreinfo, {}, 0},
      {"QEMU", 0, std::vector<std::byte>(5, std::byte{1}), 0},
  };
  std::string text = "OSRELEASE=6.1.192\nPAGESIZE=4096\n";
  for (char c : text) notes[1].desc.push_back(static_cast<std::byte>(c));
  auto encoded = encode_elf_notes(notes);
  CHECK(encoded.size() % 4 == 0);
  auto parsed = parse_elf_notes(encoded, "notes", 0);
  REQUIRE(parsed);
  REQUIRE(parsed->size() == notes.size());
  for (size_t i = 0; i < notes.size(); ++i) {
    CHECK((*parsed)[i].name == notes[i].name);
    CHECK((*parsed)[i].type == notes[i].type);
    CHECK((*parsed)[i].desc == notes[i].desc);
  }
}
