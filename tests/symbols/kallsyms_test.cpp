// decode_kallsyms over tables built here byte by byte as scripts/kallsyms
// lays them out: token expansion, the two-byte length of Linux 6.1, the
// three address encodings, sizes, and damaged tables (one-line errors with
// the address). The real kernels' tables: tests/analyzer/test_kernel_kallsyms.cpp.
#include "symbols/kallsyms.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <map>

namespace coroner::symbols {

namespace {

constexpr uint64_t kNumSyms = 0xffffffff82000000, kNames = 0xffffffff82000100, kTokenTable = 0xffffffff82010000,
                   kTokenIndex = 0xffffffff82020000, kOffsets = 0xffffffff82030000, kBase = 0xffffffff82040000,
                   kAddresses = 0xffffffff82050000;

// Kernel memory as a few byte ranges; a read outside them fails.
struct FakeMemory {
  std::map<uint64_t, std::vector<std::byte>> ranges;

  template <typename T>
  void put(uint64_t address, const std::vector<T>& values) {
    std::vector<std::byte>& bytes = ranges[address];
    bytes.resize(values.size() * sizeof(T));
    std::memcpy(bytes.data(), values.data(), bytes.size());
  }
  ReadKernelMemory reader() const {
    return [this](uint64_t address, size_t length) -> Expected<std::vector<std::byte>> {
      for (const auto& [start, bytes] : ranges)
        if (address >= start && address - start + length <= bytes.size())
          return std::vector<std::byte>(bytes.begin() + static_cast<long>(address - start),
                                        bytes.begin() + static_cast<long>(address - start + length));
      return make_error(Errc::not_in_dump, "{:#x} is not in the dump", address);
    };
  }
};

// Tokens: byte 1 is "fx_", byte 2 "crash", every other byte its own character.
FakeMemory kernel_tables(const std::vector<std::vector<uint8_t>>& names) {
  FakeMemory memory;
  std::vector<char> table;
  std::vector<uint16_t> index;
  for (int b = 0; b < 256; ++b) {
    index.push_back(static_cast<uint16_t>(table.size()));
    std::string token = b == 1 ? "fx_" : b == 2 ? "crash" : std::string(1, static_cast<char>(b ? b : '?'));
    table.insert(table.end(), token.begin(), token.end());
    table.push_back('\0');
  }
  memory.put(kTokenTable, table);
  memory.put(kTokenIndex, index);
  std::vector<uint8_t> encoded;
  for (const std::vector<uint8_t>& name : names) {
    if (name.size() < 128) {
      encoded.push_back(static_cast<uint8_t>(name.size()));
    } else {
      encoded.push_back(static_cast<uint8_t>(0x80 | (name.size() & 0x7f)));
      encoded.push_back(static_cast<uint8_t>(name.size() >> 7));
    }
    encoded.insert(encoded.end(), name.begin(), name.end());
  }
  memory.put(kNames, encoded);
  memory.put(kNumSyms, std::vector<uint32_t>{static_cast<uint32_t>(names.size())});
  return memory;
}

std::vector<uint8_t> plain(const std::string& text) { return {text.begin(), text.end()}; }

const std::vector<std::vector<uint8_t>> kNames3 = {plain("Dpercpu_var"), {'T', 1, 2, '_', 'l', '3'},
                                                   plain("t" + std::string(200, 'a'))};

KallsymsTables relative_tables() {
  return {.num_syms = kNumSyms, .names = kNames, .token_table = kTokenTable, .token_index = kTokenIndex,
          .offsets = kOffsets, .relative_base = kBase};
}

}  // namespace

TEST_CASE("kallsyms: tokens, type letters, two-byte lengths and absolute per-CPU offsets", "[kallsyms]") {
  FakeMemory memory = kernel_tables(kNames3);
  const uint64_t base = 0xffffffff81000000;
  memory.put(kBase, std::vector<uint64_t>{base});
  // x86_64: a non-negative offset is an absolute value (per-CPU), a negative
  // one counts down from base - 1.
  memory.put(kOffsets, std::vector<int32_t>{0x20, -1, -1 - 0x100});
  auto symbols = decode_kallsyms(relative_tables(), memory.reader());
  REQUIRE(symbols.has_value());
  REQUIRE(symbols->size() == 3);
  CHECK((*symbols)[0].name == "percpu_var");
  CHECK((*symbols)[0].type == 'D');
  CHECK((*symbols)[0].address == 0x20);
  CHECK((*symbols)[0].is_object);
  CHECK((*symbols)[1].name == "fx_crash_l3");
  CHECK((*symbols)[1].type == 'T');
  CHECK((*symbols)[1].address == base);
  CHECK((*symbols)[1].size == 0x100);
  CHECK((*symbols)[1].is_function);
  CHECK((*symbols)[2].name == std::string(200, 'a'));
  CHECK((*symbols)[2].type == 't');
  CHECK((*symbols)[2].address == base + 0x100);
  CHECK((*symbols)[2].size == 0);
}

TEST_CASE("kallsyms: relative offsets without absolute per-CPU, and absolute addresses", "[kallsyms]") {
  FakeMemory memory = kernel_tables(kNames3);
  const uint64_t base = 0xffff800008000000;
  memory.put(kBase, std::vector<uint64_t>{base});
  memory.put(kOffsets, std::vector<int32_t>{0, 0x10, 0x10});  // arm64: all unsigned, aliases share an end
  auto relative = decode_kallsyms(relative_tables(), memory.reader());
  REQUIRE(relative.has_value());
  CHECK((*relative)[0].address == base);
  CHECK((*relative)[0].size == 0x10);
  CHECK((*relative)[1].address == base + 0x10);
  CHECK((*relative)[2].address == base + 0x10);

  memory.put(kAddresses, std::vector<uint64_t>{0xffffffff81000000, 0xffffffff81000040, 0xffffffff81000080});
  KallsymsTables absolute = relative_tables();
  absolute.addresses = kAddresses;
  auto addressed = decode_kallsyms(absolute, memory.reader());
  REQUIRE(addressed.has_value());
  CHECK((*addressed)[0].size == 0x40);
  CHECK((*addressed)[2].address == 0xffffffff81000080);
}

TEST_CASE("kallsyms: a section bound sharing a function's address does not name it", "[kallsyms]") {
  // As in Linux 6.1's .sched.text; a weak function and its strong alias as on arm64.
  FakeMemory memory = kernel_tables({plain("T__sched_text_start"), plain("Tio_schedule_timeout"), plain("T_etext"),
                                     plain("Wblake2s_compress"), plain("Tblake2s_compress_generic")});
  const uint64_t base = 0xffffffff81000000;
  memory.put(kBase, std::vector<uint64_t>{base});
  memory.put(kOffsets, std::vector<int32_t>{0, 0, 0x40, 0x40, 0x40});
  auto decoded = decode_kallsyms(relative_tables(), memory.reader());
  REQUIRE(decoded.has_value());
  CHECK_FALSE((*decoded)[0].is_function);
  CHECK((*decoded)[1].is_function);
  CHECK_FALSE((*decoded)[2].is_function);
  CHECK((*decoded)[3].is_function);
  const SymbolTable table = SymbolTable::from_symbols(std::move(*decoded));
  CHECK(table.containing(base + 20)->name == "io_schedule_timeout");
  // Two functions at one address: the first name, as vmlinux's table says.
  CHECK(table.containing(base + 0x44)->name == "blake2s_compress");
}

TEST_CASE("kallsyms: damaged tables fail with one line naming the table and address", "[kallsyms]") {
  FakeMemory memory = kernel_tables(kNames3);
  memory.put(kBase, std::vector<uint64_t>{0xffffffff81000000});
  memory.put(kOffsets, std::vector<int32_t>{0, 1, 2});

  SECTION("a count no kernel has") {
    memory.put(kNumSyms, std::vector<uint32_t>{0xffffffff});
    auto decoded = decode_kallsyms(relative_tables(), memory.reader());
    REQUIRE_FALSE(decoded.has_value());
    CHECK(decoded.error().message() == "kallsyms_num_syms at 0xffffffff82000000: 4294967295 symbols (a kernel has 1 "
                                       "to 4194304)");
  }
  SECTION("more symbols than the names table holds") {
    memory.put(kNumSyms, std::vector<uint32_t>{4});
    auto decoded = decode_kallsyms(relative_tables(), memory.reader());
    REQUIRE_FALSE(decoded.has_value());
    CHECK_THAT(decoded.error().message(), Catch::StartsWith("kallsyms_names at 0xffffffff820001"));
    CHECK_THAT(decoded.error().message(), Catch::Contains("cannot read"));
  }
  SECTION("a token without its NUL") {
    memory.put(kTokenTable, std::vector<char>(1000, 'x'));
    auto decoded = decode_kallsyms(relative_tables(), memory.reader());
    REQUIRE_FALSE(decoded.has_value());
    CHECK(decoded.error().message() == "kallsyms_token_table at 0xffffffff82010000: token 0 longer than 256 bytes");
  }
  SECTION("a name that expands past KSYM_NAME_LEN") {
    memory = kernel_tables({std::vector<uint8_t>(600, 2)});  // 600 x "crash"
    auto decoded = decode_kallsyms(relative_tables(), memory.reader());
    REQUIRE_FALSE(decoded.has_value());
    CHECK(decoded.error().message() == "kallsyms_names at 0xffffffff82000100: symbol 0 longer than 1024 characters");
  }
  SECTION("an offsets table the dump does not hold") {
    memory.ranges.erase(kOffsets);
    auto decoded = decode_kallsyms(relative_tables(), memory.reader());
    REQUIRE_FALSE(decoded.has_value());
    CHECK_THAT(decoded.error().message(), Catch::StartsWith("kallsyms_offsets at 0xffffffff82030000: cannot read"));
  }
}

}  // namespace coroner::symbols
