// scan_kallsyms_tables over read-only data laid out here as scripts/kallsyms
// writes it: Linux 5.10's order (offsets, relative base, count, names, u32
// markers, tokens), 4.19's unsigned long markers with absolute addresses,
// and 6.1+'s kallsyms_seqs_of_names before the tokens with the offsets
// after the index. The real kernels: tests/analyzer/test_kernel_kallsyms.cpp.
#include "symbols/kallsyms_scan.hpp"

#include <catch2/catch.hpp>

#include <cstring>

namespace coroner::symbols {

namespace {

constexpr uint64_t kBase = 0xffffffff81e00000;
constexpr uint32_t kCount = 600;  // three markers

enum class Layout { linux_5_10, linux_4_19, linux_6_2 };

// A kernel image's read-only data: some text before, then the tables.
struct Image {
  std::vector<std::byte> bytes;
  KallsymsTables expected;

  uint64_t here() const { return kBase + bytes.size(); }
  void align() { bytes.resize((bytes.size() + 7) & ~size_t{7}); }
  template <typename T>
  void put(T value) {
    const size_t at = bytes.size();
    bytes.resize(at + sizeof(T));
    std::memcpy(bytes.data() + at, &value, sizeof(T));
  }
  ReadKernelMemory reader() const {
    return [this](uint64_t address, size_t length) -> Expected<std::vector<std::byte>> {
      if (address < kBase || address - kBase + length > bytes.size())
        return make_error(Errc::not_in_dump, "{:#x} is not in the dump", address);
      const auto from = bytes.begin() + static_cast<long>(address - kBase);
      return std::vector<std::byte>(from, from + static_cast<long>(length));
    };
  }
};

// Symbol i is "tfn<i>" at _text + 16 * i; each byte is its own token except
// byte 1, "fn".
Image make_image(Layout layout) {
  Image image;
  const std::string text = "some text and a string with 0 1 2 in it";
  for (char c : text) image.put(c);
  image.align();
  auto addresses = [&] {
    if (layout == Layout::linux_4_19) {
      image.expected.addresses = image.here();
      for (uint32_t i = 0; i < kCount; ++i) image.put<uint64_t>(0xffffffff81000000 + 16 * i);
    } else {
      image.expected.offsets = image.here();
      for (uint32_t i = 0; i < kCount; ++i) image.put<int32_t>(static_cast<int32_t>(16 * i));
      image.align();
      image.expected.relative_base = image.here();
      image.put<uint64_t>(0xffffffff81000000);
    }
    image.align();
  };
  if (layout != Layout::linux_6_2) addresses();
  image.expected.num_syms = image.here();
  image.put<uint64_t>(kCount);
  image.expected.names = image.here();
  std::vector<uint64_t> markers;
  for (uint32_t i = 0; i < kCount; ++i) {
    if (i % 256 == 0) markers.push_back(image.here() - image.expected.names);
    const std::string name = "t\x01" + std::to_string(i);
    image.put(static_cast<uint8_t>(name.size()));
    for (char c : name) image.put(c);
  }
  image.align();
  for (uint64_t marker : markers) {
    if (layout == Layout::linux_4_19) image.put<uint64_t>(marker);
    else image.put<uint32_t>(static_cast<uint32_t>(marker));
  }
  image.align();
  if (layout == Layout::linux_6_2) {
    for (uint32_t i = 0; i < kCount; ++i)
      for (int b = 2; b >= 0; --b) image.put(static_cast<uint8_t>(i >> (8 * b)));
    image.align();
  }
  image.expected.token_table = image.here();
  std::vector<uint16_t> index;
  for (int b = 0; b < 256; ++b) {
    index.push_back(static_cast<uint16_t>(image.here() - image.expected.token_table));
    const std::string token = b == 1 ? "fn" : std::string(1, static_cast<char>(b ? b : '?'));
    for (char c : token) image.put(c);
    image.put('\0');
  }
  image.align();
  image.expected.token_index = image.here();
  for (uint16_t offset : index) image.put(offset);
  image.align();
  if (layout == Layout::linux_6_2) addresses();
  image.bytes.resize((image.bytes.size() + 4096) & ~size_t{4095});  // whole pages, as a dump has them
  return image;
}

bool same_tables(const KallsymsTables& a, const KallsymsTables& b) {
  return a.num_syms == b.num_syms && a.names == b.names && a.token_table == b.token_table &&
         a.token_index == b.token_index && a.offsets == b.offsets && a.relative_base == b.relative_base &&
         a.addresses == b.addresses;
}

}  // namespace

TEST_CASE("kallsyms scan: the tables of 5.10, 4.19 and 6.2 layouts are found and decode", "[kallsyms]") {
  for (Layout layout : {Layout::linux_5_10, Layout::linux_4_19, Layout::linux_6_2}) {
    INFO("layout " << static_cast<int>(layout));
    const Image image = make_image(layout);
    auto found = scan_kallsyms_tables(kBase, kBase + image.bytes.size(), image.reader());
    REQUIRE(found.has_value());
    // One of the candidate layouts is the one written, and it decodes.
    const auto match = std::find_if(found->begin(), found->end(),
                                    [&](const KallsymsTables& t) { return same_tables(t, image.expected); });
    REQUIRE(match != found->end());
    auto symbols = decode_kallsyms(*match, image.reader());
    REQUIRE(symbols.has_value());
    REQUIRE(symbols->size() == kCount);
    CHECK((*symbols)[0].name == "fn0");
    CHECK((*symbols)[599].name == "fn599");
    CHECK((*symbols)[599].address == 0xffffffff81000000 + 16 * 599);
  }
}

TEST_CASE("kallsyms scan: memory without the tables fails with one line naming the range", "[kallsyms]") {
  Image image = make_image(Layout::linux_5_10);
  // The names no longer walk to the markers.
  image.bytes[image.expected.names - kBase] = std::byte{0};
  auto found = scan_kallsyms_tables(kBase, kBase + image.bytes.size(), image.reader());
  REQUIRE_FALSE(found.has_value());
  CHECK(found.error().message() ==
        fmt::format("kallsyms: no kallsyms_token_table with its index, markers and names between {:#x} and {:#x}",
                    kBase, kBase + image.bytes.size()));
}

}  // namespace coroner::symbols
