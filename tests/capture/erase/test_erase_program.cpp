// The erase offsets that coroner-capture --config runs, on a fake kernel:
// every kind of size and loop (counts from memory too), NULL pointers, a
// cyclic list, an absurd count, `if` against a module's symbol, the erasing
// view of the dump, and the parse errors (file and line named).
#include "capture/erase/erased_dump.hpp"
#include "tests/capture/filter/fake_kernel.hpp"

#include <catch2/catch.hpp>

#include <array>

using namespace coroner;
using namespace coroner::capture;
using namespace coroner::test;

namespace {

constexpr uint64_t kBase = kDirectMap;  // the fake kernel's "symbols" live at physical 0

struct Fixture {
  FakeDump dump{4, {{0, 4 * kFakePage}}};
  FakeArch arch{kDirectMap};
  KernelMemory memory{dump, arch};
};

std::vector<EraseRange> evaluate(Fixture& f, const std::string& text) {
  auto program = parse_erase_offsets(text, "test.offsets");
  if (!program) FAIL(program.error().message());
  auto ranges = evaluate_erase_program(*program, f.memory, 0);
  if (!ranges) FAIL(ranges.error().message());
  return *ranges;
}

std::string sym(uint64_t paddr) { return fmt::format("sym:{:x}", kBase + paddr); }

}  // namespace

TEST_CASE("erase sizes: fixed and a string and an integer in memory and nullify and through a pointer", "[erase][capture]") {
  Fixture f;
  f.dump.put<uint64_t>(0x100, kBase + 0x800);                 // a pointer to a string
  f.dump.put(0x800, std::array<char, 8>{'s', 'e', 'c', 'r', 'e', 't', '!', '\0'});
  f.dump.put<uint32_t>(0x108, 24);                            // a length
  f.dump.put<uint64_t>(0x110, 0);                             // a NULL pointer
  auto ranges = evaluate(f, "coroner-erase-offsets 1\n# comment\n"
                            "erase a " + sym(0x200) + " +16 size 10\n"
                            "erase s " + sym(0x100) + " * string\n"
                            "erase n " + sym(0x300) + " size-at " + sym(0x108) + " width 4\n"
                            "erase p " + sym(0x100) + " nullify\n"
                            "erase z " + sym(0x110) + " * size 8\n");
  REQUIRE(ranges.size() == 4);  // the NULL pointer's command erased nothing
  CHECK(ranges[0].vaddr == kBase + 0x210);
  CHECK(ranges[0].size == 10);
  CHECK(ranges[1].vaddr == kBase + 0x800);
  CHECK(ranges[1].size == 7);  // the string without its NUL, as makedumpfile
  CHECK(ranges[2].size == 24);
  CHECK(ranges[3].vaddr == kBase + 0x100);
  CHECK(ranges[3].size == 8);
  CHECK(ranges[3].fill == std::byte{0});
  CHECK(ranges[0].fill == std::byte{'X'});
  CHECK(erase_info_text(ranges) == "erase a size 10\nerase s size 7\nerase n size 24\nerase p nullify\n");
}

TEST_CASE("erase loops: array and array of pointers and via next and list_head", "[erase][capture]") {
  Fixture f;
  // A via list at 0x400: three nodes of 32 bytes, next at +8, circular.
  for (uint64_t i = 0; i < 3; ++i) f.dump.put<uint64_t>(0x400 + i * 32 + 8, kBase + 0x400 + ((i + 1) % 3) * 32);
  // A list_head at 0x600 and two entries whose list member is at +16.
  f.dump.put<uint64_t>(0x600, kBase + 0x710);
  f.dump.put<uint64_t>(0x710, kBase + 0x790);
  f.dump.put<uint64_t>(0x790, kBase + 0x600);
  // Pointers at 0x900: one NULL.
  f.dump.put<uint64_t>(0x900, kBase + 0xa00);
  f.dump.put<uint64_t>(0x908, 0);
  f.dump.put<uint64_t>(0x910, kBase + 0xb00);
  auto ranges = evaluate(f, "coroner-erase-offsets 1\n"
                            "for x array " + sym(0x200) + " count 3 stride 16\n  erase x.k elem +4 size 2\nendfor\n"
                            "for v via " + sym(0x400) + " next 8\n  erase v.k elem +16 size 4\nendfor\n"
                            "for l list " + sym(0x600) + " member 16\n  erase l.k elem size 1\nendfor\n"
                            "for p pointers " + sym(0x900) + " count 3\n  erase p.k elem +1 size 1\nendfor\n");
  std::vector<uint64_t> at;
  for (const auto& r : ranges) at.push_back(r.vaddr - kBase);
  CHECK(at == std::vector<uint64_t>{0x204, 0x214, 0x224, 0x410, 0x430, 0x450, 0x700, 0x780, 0xa01, 0xb01});
}

TEST_CASE("erase loops: arrays and pointers with their count read from memory", "[erase][capture]") {
  Fixture f;
  // A "table" at 0x100: a pointer to 3 elements of 24 bytes at 0x200, their
  // count (u32) at +8; a pointer to 3 pointers (one NULL) at +16, their
  // count (u16) at +24; a NULL array pointer at +32 with a count of 5 at +40.
  f.dump.put<uint64_t>(0x100, kBase + 0x200);
  f.dump.put<uint32_t>(0x108, 3);
  f.dump.put<uint64_t>(0x110, kBase + 0x900);
  f.dump.put<uint16_t>(0x118, 3);
  f.dump.put<uint64_t>(0x120, 0);
  f.dump.put<uint32_t>(0x128, 5);
  f.dump.put<uint64_t>(0x900, kBase + 0xa00);
  f.dump.put<uint64_t>(0x908, 0);
  f.dump.put<uint64_t>(0x910, kBase + 0xb00);
  f.dump.put<uint64_t>(0x918, kBase + 0xc00);  // a fourth pointer, past the count
  auto ranges = evaluate(f, "coroner-erase-offsets 1\n"
                            "for t array " + sym(0x100) + " * count-at " + sym(0x108) + " width 4 stride 24\n"
                            "  erase t.k elem +4 size 2\nendfor\n"
                            "for p pointers " + sym(0x110) + " * count-at " + sym(0x118) + " width 2\n"
                            "  erase p.k elem +1 size 1\nendfor\n"
                            "for n array " + sym(0x120) + " * count-at " + sym(0x128) + " width 4 stride 8\n"
                            "  erase n.k elem size 1\nendfor\n");
  std::vector<uint64_t> at;
  for (const auto& r : ranges) at.push_back(r.vaddr - kBase);
  CHECK(at == std::vector<uint64_t>{0x204, 0x21c, 0x234, 0xa01, 0xb01});
}

TEST_CASE("an absurd count read from memory is an error naming its address", "[erase][capture]") {
  Fixture f;
  f.dump.put<uint64_t>(0x100, kBase + 0x200);
  f.dump.put<uint32_t>(0x108, 0x7fffffff);  // corrupt memory
  auto program = parse_erase_offsets("coroner-erase-offsets 1\nfor t array " + sym(0x100) + " * count-at " +
                                         sym(0x108) + " width 4 stride 24\n  erase t.k elem size 1\nendfor\n",
                                     "t");
  REQUIRE(program);
  auto ranges = evaluate_erase_program(*program, f.memory, 0);
  REQUIRE_FALSE(ranges);
  CHECK(ranges.error().message() ==
        fmt::format("erase offsets line 2: the count at {:#x} is 2147483647, more than 1048576 (corrupt memory?)",
                    kBase + 0x108));
}

TEST_CASE("if ... is a module's symbol: found in the module's kallsyms; a module not loaded matches nothing",
          "[erase][capture]") {
  Fixture f;
  // The modules list at 0x1000 holds one module at 0x1100 (list at +8, name
  // at +16, kallsyms at +80) named dm_crypt, whose kallsyms (0x1200: symtab
  // at +0, num_symtab at +8, strtab at +16) has crypt_target at 0x1e00.
  f.dump.put<uint64_t>(0x1000, kBase + 0x1108);
  f.dump.put<uint64_t>(0x1108, kBase + 0x1000);
  f.dump.put(0x1110, std::array<char, 9>{'d', 'm', '_', 'c', 'r', 'y', 'p', 't', '\0'});
  f.dump.put<uint64_t>(0x1150, kBase + 0x1200);
  f.dump.put<uint64_t>(0x1200, kBase + 0x1300);
  f.dump.put<uint32_t>(0x1208, 2);
  f.dump.put<uint64_t>(0x1210, kBase + 0x1400);
  f.dump.put<uint32_t>(0x1300, 1);  // "other"
  f.dump.put<uint64_t>(0x1308, kBase + 0x1d00);
  f.dump.put<uint32_t>(0x1318, 7);  // "crypt_target"
  f.dump.put<uint64_t>(0x1320, kBase + 0x1e00);
  const std::string strtab("\0other\0crypt_target\0", 20);
  for (size_t i = 0; i < strtab.size(); ++i) f.dump.put(0x1400 + i, static_cast<uint8_t>(strtab[i]));
  // Three targets of 16 bytes at 0x200: a type pointer at +0, a private pointer at +8.
  for (uint64_t i = 0; i < 3; ++i) {
    f.dump.put<uint64_t>(0x200 + i * 16, kBase + (i == 1 ? 0x1d00 : 0x1e00));
    f.dump.put<uint64_t>(0x208 + i * 16, kBase + 0x800 + i * 0x40);
  }
  const std::string modules =
      "modules " + sym(0x1000) + " list 8 name 16 kallsyms 80 symtab 0 num_symtab 8 strtab 16\n";
  auto ranges = evaluate(f, "coroner-erase-offsets 1\n" + modules +
                            "for ti array " + sym(0x200) + " count 3 stride 16\n"
                            "  for cc one elem +8 * if elem +0 is mod:dm_crypt:crypt_target\n"
                            "    erase cc.key elem +4 size 2\n"
                            "  endfor\n"
                            "  for cc one elem +8 * if elem +0 is mod:absent:crypt_target sym:0\n"
                            "    erase cc.never elem size 1\n"
                            "  endfor\n"
                            "endfor\n");
  std::vector<uint64_t> at;
  for (const auto& r : ranges) at.push_back(r.vaddr - kBase);
  CHECK(at == std::vector<uint64_t>{0x804, 0x884});  // the targets of crypt_target: the first and the third
  // A module that is loaded without the symbol is an error, as for erase targets.
  auto program = parse_erase_offsets("coroner-erase-offsets 1\n" + modules + "for ti array " + sym(0x200) +
                                         " count 1 stride 16\n  for cc one elem +8 * if elem is mod:dm_crypt:nope\n"
                                         "  endfor\nendfor\n",
                                     "t");
  REQUIRE(program);
  auto failed = evaluate_erase_program(*program, f.memory, 0);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().message() ==
        fmt::format("erase offsets line 4: module dm_crypt (at {:#x}) has no symbol nope", kBase + 0x1100));
}

TEST_CASE("loops within loops over corrupt counts are an error and not a hang", "[erase][capture]") {
  // Two counts of 2^20, each allowed alone: 2^40 elements together.
  Fixture f;
  f.dump.put<uint32_t>(0x108, 1u << 20);
  auto program = parse_erase_offsets("coroner-erase-offsets 1\nfor a array " + sym(0x100) + " count-at " +
                                         sym(0x108) + " width 4 stride 0\n  for b array " + sym(0x100) +
                                         " count-at " + sym(0x108) + " width 4 stride 0\n  endfor\nendfor\n",
                                     "t");
  REQUIRE(program);
  auto ranges = evaluate_erase_program(*program, f.memory, 0);
  REQUIRE_FALSE(ranges);
  CHECK(ranges.error().message() ==
        "erase offsets line 3: the loops have visited more than 16777216 elements in all (corrupt memory?)");
}

TEST_CASE("a list that never returns to its head is an error and not a hang", "[erase][capture]") {
  Fixture f;
  f.dump.put<uint64_t>(0x600, kBase + 0x700);
  f.dump.put<uint64_t>(0x700, kBase + 0x700);  // points at itself, never back at the head
  auto program = parse_erase_offsets("coroner-erase-offsets 1\nfor l list " + sym(0x600) +
                                         " member 0\n  erase l elem size 1\nendfor\n",
                                     "t");
  REQUIRE(program);
  auto ranges = evaluate_erase_program(*program, f.memory, 0);
  REQUIRE_FALSE(ranges);
  CHECK_THAT(ranges.error().message(), Catch::Contains("erase offsets line 2: the list at"));
}

namespace {

// An rb-tree at 0x300 (rb_root) of elements whose rb_node is at +8
// (rb_right at +8 of it, rb_left at +16): 0x400 the root, 0x480 its left
// child, 0x500 its right child, 0x580 the right child of 0x480.
void put_rbtree(FakeDump& dump) {
  auto node = [](uint64_t element) { return kBase + element + 8; };
  dump.put<uint64_t>(0x300, node(0x400));
  dump.put<uint64_t>(0x408 + 16, node(0x480));
  dump.put<uint64_t>(0x408 + 8, node(0x500));
  dump.put<uint64_t>(0x488 + 8, node(0x580));
}

}  // namespace

TEST_CASE("erase loops: an rb-tree in order and nested loops and one element and if", "[erase][capture]") {
  Fixture f;
  put_rbtree(f.dump);
  // Each element: a type pointer at +40 and a payload pointer at +48.
  for (uint64_t element : {0x400, 0x480, 0x500, 0x580}) {
    f.dump.put<uint64_t>(element + 40, kBase + (element == 0x500 ? 0xd00 : 0xc00));
    f.dump.put<uint64_t>(element + 48, element == 0x580 ? 0 : kBase + 0x800 + (element - 0x400));
  }
  auto ranges = evaluate(f, "coroner-erase-offsets 1\n"
                            "for k rbtree " + sym(0x300) + " member 8 left 16 right 8\n"
                            "  erase k.a elem +32 size 1\n"
                            "  for p one elem +48 * if elem +40 is " + sym(0xb00) + " " + sym(0xc00) + "\n"
                            "    erase p.data elem +2 size 3\n"
                            "    erase k.b elem1 +56 size 1\n"
                            "  endfor\n"
                            "  erase k.c elem +33 size 1\n"
                            "endfor\n");
  std::vector<std::pair<uint64_t, uint64_t>> at;
  for (const auto& r : ranges) at.push_back({r.vaddr - kBase, r.size});
  // 0x500's type is another; 0x580's payload pointer is NULL.
  CHECK(at == std::vector<std::pair<uint64_t, uint64_t>>{{0x4a0, 1}, {0x882, 3}, {0x4b8, 1}, {0x4a1, 1},
                                                         {0x5a0, 1}, {0x5a1, 1},
                                                         {0x420, 1}, {0x802, 3}, {0x438, 1}, {0x421, 1},
                                                         {0x520, 1}, {0x521, 1}});
}

TEST_CASE("an rb-tree with a cycle is an error and not a hang", "[erase][capture]") {
  Fixture f;
  put_rbtree(f.dump);
  f.dump.put<uint64_t>(0x588 + 16, kBase + 0x488);  // 0x580's left child is its parent
  auto program = parse_erase_offsets("coroner-erase-offsets 1\nfor k rbtree " + sym(0x300) +
                                         " member 8 left 16 right 8\n  erase k elem size 1\nendfor\n",
                                     "t");
  REQUIRE(program);
  auto ranges = evaluate_erase_program(*program, f.memory, 0);
  REQUIRE_FALSE(ranges);
  CHECK(ranges.error().message() ==
        fmt::format("erase offsets line 2: the rb-tree at {:#x}: node {:#x} is reached twice (a cycle)", kBase + 0x300,
                    kBase + 0x488));
}

TEST_CASE("a module symbol without a modules line is an error", "[erase][capture]") {
  Fixture f;
  auto program = parse_erase_offsets("coroner-erase-offsets 1\nerase m mod:fx:fx_magic size 8\n", "t");
  REQUIRE(program);
  auto ranges = evaluate_erase_program(*program, f.memory, 0);
  REQUIRE_FALSE(ranges);
  CHECK(ranges.error().message() == "erase offsets line 2: mod:fx:fx_magic without a modules line");
}

TEST_CASE("the erasing view overwrites exactly the erased bytes", "[erase][capture]") {
  Fixture f;
  for (uint64_t i = 0; i < 4 * kFakePage; ++i) f.dump.put(i, static_cast<uint8_t>(i * 7));
  // 0xff0 + 32 crosses a page: two pieces.
  auto pieces = physical_erases({{kBase + 0xff0, 32, std::byte{'X'}, "x"}, {kBase + 0x20, 8, std::byte{0}, "z"}},
                                f.memory, kFakePage);
  REQUIRE(pieces);
  REQUIRE(pieces->size() == 3);
  ErasedDump erased(f.dump, *pieces, "");
  CHECK(erased.erased_bytes() == 40);
  std::vector<std::byte> page(2 * kFakePage), original(2 * kFakePage);
  REQUIRE(erased.read(0, page));
  REQUIRE(f.dump.read(0, original));
  for (uint64_t i = 0; i < page.size(); ++i) {
    bool x = i >= 0xff0 && i < 0x1010, zero = i >= 0x20 && i < 0x28;
    INFO(i);
    CHECK(page[i] == (x ? std::byte{'X'} : zero ? std::byte{0} : original[i]));
  }
}

TEST_CASE("erase offsets parse errors name the file and line", "[erase][capture]") {
  auto error = [](const std::string& text) {
    auto program = parse_erase_offsets(text, "f.offsets");
    REQUIRE_FALSE(program);
    return program.error().message();
  };
  CHECK_THAT(error("[vmlinux]\nerase x\n"), Catch::Contains("f.offsets: not an erase offsets file (a makedumpfile.conf?"));
  CHECK(error("coroner-erase-offsets 2\n") == "f.offsets: line 1: erase offsets version 2, only 1 is known");
  CHECK(error("coroner-erase-offsets 1\nerase a sym:zz size 1\n") == "f.offsets: line 2: bad address 'sym:zz'");
  CHECK(error("coroner-erase-offsets 1\nerase a elem size 1\n") == "f.offsets: line 2: elem outside a for loop");
  CHECK(error("coroner-erase-offsets 1\nerase a sym:10 size-at sym:20 width 3\n") ==
        "f.offsets: line 2: width: expected 1, 2, 4 or 8");
  CHECK(error("coroner-erase-offsets 1\nfor a array sym:10 count 2 stride 8\n") ==
        "f.offsets: line 2: for without endfor");
  CHECK(error("coroner-erase-offsets 1\nendfor\n") == "f.offsets: line 2: endfor without for");
  CHECK(error("coroner-erase-offsets 1\nfor a one sym:10 *\n  erase b elem2 size 1\nendfor\n") ==
        "f.offsets: line 3: elem2 inside 1 for loops");
  CHECK(error("coroner-erase-offsets 1\nfor a one sym:10 * if sym:20 is 30\nendfor\n") ==
        "f.offsets: line 2: if: expected sym:ADDRESS or mod:MODULE:SYMBOL, got '30'");
  CHECK(error("coroner-erase-offsets 1\nfor a one sym:10 * if sym:20 is sym:30 +8\nendfor\n") ==
        "f.offsets: line 2: if: a symbol without steps");
  CHECK(error("coroner-erase-offsets 1\nfor a array sym:10 * count-at sym:20 width 3 stride 8\nendfor\n") ==
        "f.offsets: line 2: width: expected 1, 2, 4 or 8");
  CHECK(error("coroner-erase-offsets 1\nerase a mod:x size 1\n") ==
        "f.offsets: line 2: bad module symbol 'mod:x' (mod:MODULE:SYMBOL)");
  std::string deep = "coroner-erase-offsets 1\n";
  for (int i = 0; i < 9; ++i) deep += "for a one sym:10 *\n";
  CHECK(error(deep) == "f.offsets: line 10: loops nested more than 8 deep");
  CHECK(error("coroner-erase-offsets 1\nerase a sym:10 bytes 4\n") ==
        "f.offsets: line 2: expected size, string, size-at or nullify, got 'bytes'");
}
