// BTF blobs made by hand: what a small valid one gives (bitfields, signed
// enums, forward declarations, per-CPU variables), and one-line errors for
// hostile ones (bad magic, truncation, ids out of range, loops).
#include "symbols/debug_info.hpp"

#include <catch2/catch.hpp>

#include <linux/btf.h>

#include <cstring>

using namespace coroner;
using coroner::symbols::DebugInfo;

namespace {

// Writes raw BTF: a header, the types as added, the strings.
class BtfBuilder {
 public:
  uint32_t name(std::string_view text) {
    if (text.empty()) return 0;
    const auto offset = static_cast<uint32_t>(strings_.size());
    strings_.append(text);
    strings_.push_back('\0');
    return offset;
  }
  // One type: its btf_type words, then the words that follow it.
  uint32_t add(std::string_view type_name, uint32_t kind, uint16_t vlen, bool kflag, uint32_t size_or_type,
               std::initializer_list<uint32_t> extra = {}) {
    words_.push_back(name(type_name));
    words_.push_back(kind << 24 | vlen | (kflag ? 1u << 31 : 0));
    words_.push_back(size_or_type);
    words_.insert(words_.end(), extra);
    return ++count_;
  }
  uint32_t add_int(std::string_view type_name, uint32_t size, uint32_t encoding) {
    return add(type_name, BTF_KIND_INT, 0, false, size, {encoding << 24 | size * 8});
  }
  std::vector<std::byte> bytes(uint16_t magic = BTF_MAGIC) const {
    btf_header header{};
    header.magic = magic;
    header.version = BTF_VERSION;
    header.hdr_len = sizeof header;
    header.type_off = 0;
    header.type_len = static_cast<uint32_t>(words_.size() * 4);
    header.str_off = header.type_len;
    header.str_len = static_cast<uint32_t>(strings_.size());
    std::vector<std::byte> out(sizeof header + header.type_len + header.str_len);
    std::memcpy(out.data(), &header, sizeof header);
    std::memcpy(out.data() + sizeof header, words_.data(), header.type_len);
    std::memcpy(out.data() + sizeof header + header.type_len, strings_.data(), strings_.size());
    return out;
  }

 private:
  std::vector<uint32_t> words_;
  std::string strings_ = std::string(1, '\0');
  uint32_t count_ = 0;
};

std::string open_error(std::vector<std::byte> bytes) {
  auto info = DebugInfo::open_btf(std::move(bytes), "vmcore: BTF at 0xffffffff82438070");
  REQUIRE_FALSE(info.has_value());
  const std::string message = info.error().message();
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.starts_with("vmcore: BTF at 0xffffffff82438070: "));
  return message;
}

}  // namespace

TEST_CASE("BTF by hand: bitfields and signed enums and declarations and per-CPU variables", "[symbols][btf]") {
  BtfBuilder b;
  const uint32_t int_type = b.add_int("int", 4, BTF_INT_SIGNED);                       // 1
  const uint32_t uint_type = b.add_int("unsigned int", 4, 0);                          // 2
  const uint32_t fwd = b.add("item", BTF_KIND_FWD, 0, false, 0);                       // 3
  const uint32_t pointer = b.add("", BTF_KIND_PTR, 0, false, fwd);                     // 4
  // struct item { int a; unsigned int low:3, high:5; struct item *next; }
  const uint32_t item = b.add("item", BTF_KIND_STRUCT, 4, true, 16,                    // 5
                              {b.name("a"), int_type, 0, b.name("low"), uint_type, 3u << 24 | 32,
                               b.name("high"), uint_type, 5u << 24 | 35, b.name("next"), pointer, 64});
  const uint32_t level = b.add("level", BTF_KIND_ENUM, 2, true, 4,                     // 6
                               {b.name("LEVEL_LOW"), static_cast<uint32_t>(-1), b.name("LEVEL_HIGH"), 7});
  const uint32_t item_t = b.add("item_t", BTF_KIND_TYPEDEF, 0, false, item);           // 7
  const uint32_t constant = b.add("", BTF_KIND_CONST, 0, false, item_t);              // 8
  const uint32_t variable = b.add("counter", BTF_KIND_VAR, 0, false, int_type, {1});  // 9
  b.add(".data..percpu", BTF_KIND_DATASEC, 1, false, 64, {variable, 0x40, 4});        // 10
  const uint32_t prototype = b.add("", BTF_KIND_FUNC_PROTO, 2, false, int_type,      // 11
                                   {b.name("first"), constant, 0, 0});
  b.add("report", BTF_KIND_FUNC, 0, false, prototype);                                // 12
  // __rcu-style type tags and declaration tags carry no C meaning.
  const uint32_t qualified = b.add("", BTF_KIND_VOLATILE, 0, false, item);              // 13
  const uint32_t tagged = b.add("rcu", BTF_KIND_TYPE_TAG, 0, false, qualified);         // 14
  const uint32_t tagged_pointer = b.add("", BTF_KIND_PTR, 0, false, tagged);            // 15
  b.add("item_rcu", BTF_KIND_TYPEDEF, 0, false, tagged_pointer);                        // 16
  b.add("tag", BTF_KIND_DECL_TAG, 0, false, item, {static_cast<uint32_t>(-1)});         // 17
  b.add("wide", BTF_KIND_ENUM64, 1, false, 8, {b.name("WIDE_TOP"), 0, 0x80000000u});    // 18
  (void)level;

  auto opened = DebugInfo::open_btf(b.bytes(), "test BTF");
  if (!opened) FAIL(opened.error().message());
  DebugInfo& info = **opened;
  CHECK_FALSE(info.has_dwarf());
  CHECK(info.type_size("struct item").value_or(0) == 16);
  CHECK(info.type_size("item_t").value_or(0) == 16);
  auto low = info.find_member("item_t", "low");
  REQUIRE(low.has_value());
  CHECK(low->bit_offset == 32);
  CHECK(low->bit_size == 3);
  auto high = info.find_member("item", "high");
  REQUIRE(high.has_value());
  CHECK(high->bit_offset == 35);
  CHECK(high->bit_size == 5);
  // The forward declaration behind the pointer stands for the definition.
  auto next = info.find_member("item", "next");
  REQUIRE(next.has_value());
  CHECK(next->type.type->spelling() == "struct item *");
  auto pointee = next->type.type->target().get();
  REQUIRE(pointee.has_value());
  CHECK(pointee->type->is_complete());
  CHECK(info.member_offset("struct item", "next").value_or(0) == 8);

  CHECK(info.find_enumerator("LEVEL_LOW").value_or(0) == -1);
  CHECK(info.find_enumerator("LEVEL_HIGH").value_or(0) == 7);
  auto level_type = info.find_type("enum level");
  REQUIRE(level_type.has_value());
  CHECK(level_type->type->is_signed());
  CHECK(level_type->type->enumerators().at(0).value == ~0ull);

  auto counter = info.find_variable("counter");
  REQUIRE(counter.has_value());
  CHECK(counter->per_cpu);
  CHECK(counter->address == 0x40);
  CHECK(counter->type.type->spelling() == "int");

  auto report = info.find_function("report");
  REQUIRE(report.has_value());
  CHECK_FALSE(report->address.has_value());
  CHECK(report->type.type->spelling() == "int (item_t, ...)");
  REQUIRE(report->type.type->parameters().size() == 1);
  CHECK(report->type.type->parameters()[0].name == "first");
  auto first = report->type.type->parameters()[0].type.get();
  REQUIRE(first.has_value());
  CHECK(first->qualifiers == symbols::qualifier_const);

  auto rcu = info.find_type("item_rcu");
  REQUIRE(rcu.has_value());
  CHECK(rcu->type->size().value_or(0) == 8);
  auto rcu_target = symbols::underlying(*rcu);
  REQUIRE(rcu_target.has_value());
  CHECK((*rcu_target)->spelling() == "struct item *");
  auto rcu_pointee = (*rcu_target)->target().get();
  REQUIRE(rcu_pointee.has_value());
  CHECK(rcu_pointee->qualifiers == symbols::qualifier_volatile);
  CHECK(rcu_pointee->type->size().value_or(0) == 16);
  CHECK(static_cast<uint64_t>(info.find_enumerator("WIDE_TOP").value_or(0)) == 0x8000000000000000ull);
  CHECK(info.type_size("enum wide").value_or(0) == 8);

  CHECK(info.names_starting_with("ite", {symbols::NameKind::structure, symbols::NameKind::typedef_type}, 10) ==
        (std::vector<std::string>{"item", "item_rcu", "item_t"}));
  CHECK(info.indexed());
}

TEST_CASE("BTF by hand: hostile blobs give one-line errors", "[symbols][btf]") {
  BtfBuilder valid;
  valid.add_int("int", 4, BTF_INT_SIGNED);
  CHECK(DebugInfo::open_btf(valid.bytes(), "ok").has_value());

  const std::string prefix = "vmcore: BTF at 0xffffffff82438070: bad BTF: ";
  CHECK(open_error(valid.bytes(0x1234)) == prefix + "magic 0x1234 is not 0xeb9f");
  CHECK(open_error({}) == prefix + "0 bytes, shorter than its header");
  auto bytes = valid.bytes();
  CHECK(open_error({bytes.begin(), bytes.begin() + 10}) == prefix + "10 bytes, shorter than its header");
  // libbpf's own reason: the header's lengths run past the end.
  const std::string truncated = open_error({bytes.begin(), bytes.end() - 3});
  CHECK(truncated.starts_with(prefix));
  CHECK(truncated.size() > prefix.size());

  {
    BtfBuilder b;
    b.add("far", BTF_KIND_TYPEDEF, 0, false, 99);
    CHECK(open_error(b.bytes()) ==
          "vmcore: BTF at 0xffffffff82438070: BTF type id 1: refers to type id 99, past the last (1)");
  }
  {
    BtfBuilder b;  // typedef a -> typedef b -> a
    b.add("a", BTF_KIND_TYPEDEF, 0, false, 2);
    b.add("b", BTF_KIND_TYPEDEF, 0, false, 1);
    CHECK(open_error(b.bytes()).find("contains itself") != std::string::npos);
  }
  {
    BtfBuilder b;  // struct s { struct s inner; }
    b.add("s", BTF_KIND_STRUCT, 1, false, 4, {b.name("inner"), 1, 0});
    CHECK(open_error(b.bytes()).find("contains itself") != std::string::npos);
  }
  {
    BtfBuilder b;  // a pointer to a function returning that pointer
    b.add("", BTF_KIND_PTR, 0, false, 2);
    b.add("", BTF_KIND_FUNC_PROTO, 0, false, 1);
    CHECK(open_error(b.bytes()).find("spells itself") != std::string::npos);
  }
  {
    BtfBuilder b;  // const -> volatile -> const
    b.add("", BTF_KIND_CONST, 0, false, 2);
    b.add("", BTF_KIND_VOLATILE, 0, false, 1);
    CHECK(open_error(b.bytes()).find("contains itself") != std::string::npos);
  }
  {
    BtfBuilder b;  // no loop, but a chain deeper than any C type: int **...*
    b.add_int("int", 4, BTF_INT_SIGNED);
    for (uint32_t id = 1; id <= 600; ++id) b.add("", BTF_KIND_PTR, 0, false, id);
    CHECK(open_error(b.bytes()).find("types nest more than 512 deep") != std::string::npos);
  }
  {
    BtfBuilder b;
    b.add("s", BTF_KIND_STRUCT, 1, false, 4, {0x7fffff, 0, 0});
    CHECK(open_error(b.bytes()).find("name offset 0x7fffff is past the strings") != std::string::npos);
  }
  {
    BtfBuilder b;
    b.add_int("int", 4, BTF_INT_SIGNED);
    b.add("f", BTF_KIND_FUNC, 0, false, 1);
    CHECK(open_error(b.bytes()).find("not a function prototype") != std::string::npos);
  }
  {
    BtfBuilder b;
    b.add_int("int", 4, BTF_INT_SIGNED);
    b.add(".data..percpu", BTF_KIND_DATASEC, 1, false, 4, {1, 0, 4});
    CHECK(open_error(b.bytes()).find("section entry 0 is not a variable") != std::string::npos);
  }
  {
    // A variable asked for as a type: an error, not a crash.
    BtfBuilder b;
    b.add_int("int", 4, BTF_INT_SIGNED);
    b.add("v", BTF_KIND_VAR, 0, false, 1, {1});
    b.add("t", BTF_KIND_TYPEDEF, 0, false, 2);
    auto info = DebugInfo::open_btf(b.bytes(), "odd");
    REQUIRE(info.has_value());
    auto size = (*info)->type_size("t");
    REQUIRE_FALSE(size.has_value());
    CHECK(size.error().message() == "odd: BTF type id 2: a variable, not a type");
  }
}
