// `eval` and `ascii` against hand-computed values, `rd -s` against crash's
// format on the fixtures.
#include "tests/commands/command_runner.hpp"

namespace coroner::test {

TEST_CASE("eval prints hexadecimal, decimal, octal and binary", "[eval][facts]") {
  const DumpCase& dump = all_dumps().front();
  CommandRunner run(dump);
  const std::string zeros(49, '0');
  CHECK(run.text("eval 0x1000 * 4") == "hexadecimal: 4000  (16KB)\n"
                                       "    decimal: 16384  \n"
                                       "      octal: 40000\n"
                                       "     binary: " + zeros + "100000000000000\n");
  CHECK(run.text("eval -b 41dc065") ==
        "hexadecimal: 41dc065  \n"
        "    decimal: 69058661  \n"
        "      octal: 407340145\n"
        "     binary: 0000000000000000000000000000000000000100000111011100000001100101\n"
        "   bits set: 26 20 19 18 16 15 14 6 5 2 0 \n");
  CHECK(run.text("eval (1 << 63)") ==
        "hexadecimal: 8000000000000000  (8589934592GB)\n"
        "    decimal: 9223372036854775808  (-9223372036854775808)\n"
        "      octal: 1000000000000000000000\n"
        "     binary: 1" + std::string(63, '0') + "\n");
  CHECK_THAT(run.text("eval ~0"), Catch::StartsWith("hexadecimal: ffffffffffffffff  \n    decimal: 18446744073709551615  (-1)\n"));
  CHECK_THAT(run.text("eval 100 / 7"), Catch::StartsWith("hexadecimal: e  \n    decimal: 14  \n"));
  CHECK_THAT(run.text("eval 100 % 7"), Catch::StartsWith("hexadecimal: 2  \n"));
  CHECK_THAT(run.text("eval 2 + 3 * 4"), Catch::StartsWith("hexadecimal: e  \n"));
  CHECK_THAT(run.text("eval (2 + 3) * 4"), Catch::StartsWith("hexadecimal: 14  \n"));
  CHECK_THAT(run.text("eval 1 | 6 ^ 3 & 2"), Catch::StartsWith("hexadecimal: 5  \n"));  // 1 | (6 ^ (3 & 2))
  CHECK_THAT(run.text("eval 0x100 >> 4 - 2"), Catch::StartsWith("hexadecimal: 40  \n"));
  CHECK_THAT(run.text("eval 12k"), Catch::StartsWith("hexadecimal: 3000  (12KB)\n"));
  CHECK_THAT(run.text("eval 3m + 1"), Catch::StartsWith("hexadecimal: 300001  \n"));
  CHECK_THAT(run.text("eval 2g"), Catch::StartsWith("hexadecimal: 80000000  (2GB)\n"));
  CHECK_THAT(run.text("eval -5 + 2"), Catch::StartsWith("hexadecimal: fffffffffffffffd  \n"));
  CHECK_THAT(run.text("eval deadbeef"), Catch::StartsWith("hexadecimal: deadbeef  \n    decimal: 3735928559  \n"));

  // Symbols are their addresses.
  const auto& facts = dump.facts();
  const uint64_t jiffies = hex_value(facts["symbols"]["jiffies"]);
  CHECK_THAT(run.text("eval jiffies + 8"), Catch::StartsWith(fmt::format("hexadecimal: {:x}  \n", jiffies + 8)));
  auto json = run.json("eval -b jiffies");
  CHECK(json["hexadecimal"] == fmt::format("{:#x}", jiffies));
  CHECK(json["decimal"] == jiffies);
  CHECK(json["signed"] == static_cast<int64_t>(jiffies));
  CHECK(json["bits_set"].size() == static_cast<size_t>(__builtin_popcountll(jiffies)));

  CHECK_THAT(run.failure("eval 1 / 0"), Catch::Contains("division by zero"));
  CHECK_THAT(run.failure("eval (1 + 2"), Catch::Contains("')'"));
  CHECK_THAT(run.failure("eval 1 +"), Catch::Contains("ends early"));
  CHECK_THAT(run.failure("eval no_such_symbol_here"), Catch::Contains("no_such_symbol_here"));
  CHECK_THAT(run.failure("eval"), Catch::Contains("missing expression"));
  CHECK_THAT(run.failure("eval " + std::string(1000, '(') + "1"), Catch::Contains("deeply"));
}

TEST_CASE("ascii shows a value's bytes in memory order", "[ascii][facts]") {
  CommandRunner run(all_dumps().front());
  CHECK(run.text("ascii 62696c2f7273752f") == "62696c2f7273752f: /usr/lib\n");
  CHECK(run.text("ascii 41 0a0d") == "0000000000000041: A<NUL><NUL><NUL><NUL><NUL><NUL><NUL>\n"
                                     "0000000000000a0d: <CR><LF><NUL><NUL><NUL><NUL><NUL><NUL>\n");
  CHECK(run.text("ascii 7f80") == "0000000000007f80: <80><DEL><NUL><NUL><NUL><NUL><NUL><NUL>\n");
  auto json = run.json("ascii 4b4f");
  CHECK(json["values"][0]["ascii"] == "OK<NUL><NUL><NUL><NUL><NUL><NUL>");
  auto chart = run.text("ascii");
  CHECK_THAT(chart, Catch::Contains("  0 | NUL DLE  SP   0   @   P   `   p"));
  CHECK_THAT(chart, Catch::Contains("  F |  SI  US   /   ?   O   _   o DEL"));
  CHECK_THAT(run.failure("ascii xyz"), Catch::Contains("xyz"));
}

TEST_CASE("rd -s shows symbols for kernel addresses of symbols, hex otherwise", "[rd][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("symbols") || !facts["symbols"].contains("fx_items")) continue;
    SECTION(dump.id) {
      CommandRunner run(dump);
      // fair_sched_class starts with enqueue_task / dequeue_task (as crash shows).
      auto text = run.text("rd -s fair_sched_class 2");
      auto fair = run.program().symbol_address("fair_sched_class");
      REQUIRE(fair);
      CHECK(text == fmt::format("{:016x}:  enqueue_task_fair dequeue_task_fair\n", *fair));
      // fx_items: a list_head whose pointers are slab (direct-map) addresses: hex.
      const uint64_t head = hex_value(facts["symbols"]["fx_items"]);
      const auto& items = facts["values"]["fx_items"];
      CHECK(run.text(fmt::format("rd -s {:#x} 2", head)) ==
            fmt::format("{:016x}:  {:016x} {:016x}\n", head, hex_value(items[0]["addr"]) + 32,
                        hex_value(items[4]["addr"]) + 32));
      // An offset into a symbol prints as name+decimal.
      auto init_task = run.program().symbol_address("init_task");
      REQUIRE(init_task);
      auto tasks = run.program().member_offset("task_struct", "tasks");
      REQUIRE(tasks);
      // init_task.tasks.prev is the last task's tasks member, in the direct map: hex.
      auto word = run.text(fmt::format("rd -s {:#x} 1", *init_task + *tasks));
      CHECK_THAT(word, !Catch::Contains("+"));
    }
  }
}

}  // namespace coroner::test
