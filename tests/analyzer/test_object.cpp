// The typed object layer on the real dumps, against facts.json: globals,
// members, pointers, container_of, per-CPU variables and faults.
#include "analyzer/expression.hpp"
#include "analyzer/object.hpp"
#include "tests/analyzer/test_object_dumps.hpp"
#include "tests/commands/command_runner.hpp"

#include <set>

namespace coroner::test {

namespace {

uint64_t unsigned_of(const Expected<Object>& object) {
  if (!object) FAIL(object.error().message());
  auto value = object->read_unsigned();
  if (!value) FAIL(value.error().message());
  return *value;
}

std::string string_of(const Expected<Object>& object) {
  if (!object) FAIL(object.error().message());
  auto text = object->read_c_string();
  if (!text) FAIL(text.error().message());
  return *text;
}

symbols::QualifiedType kernel_type(const Program& program, std::string_view name) {
  auto type = parse_type_name(program, name);
  if (!type) FAIL(type.error().message());
  return *type;
}

}  // namespace

TEST_CASE("globals, members and strings read through objects equal facts.json", "[object][facts]") {
  for (const DumpCase* dump : object_test_dumps()) {
    SECTION(dump->id) {
      CommandRunner run(*dump);
      const Program& program = run.program();
      const auto& facts = dump->facts();
      CHECK(unsigned_of(global_object(program, "jiffies_64")) == facts["values"]["jiffies_64"].get<uint64_t>());
      CHECK(string_of(global_object(program, "linux_banner")) == facts["values"]["linux_banner"]);
      auto uts = global_object(program, "init_uts_ns");
      REQUIRE(uts);
      CHECK(string_of(uts->member("name.release")) == facts["osrelease"].get<std::string>());
      CHECK(string_of(uts->member("name")->member("nodename")) == facts["nodename"].get<std::string>());

      auto init_task = global_object(program, "init_task");
      REQUIRE(init_task);
      CHECK(*init_task->address() == hex_value(facts["symbols"]["init_task"]));
      CHECK(string_of(init_task->member("comm")) == "swapper/0");
      CHECK(unsigned_of(init_task->address_of()) == hex_value(facts["symbols"]["init_task"]));
      // comm[0] through index() and a char's value.
      CHECK(unsigned_of(init_task->member("comm")->index(0)) == 's');
    }
  }
}

TEST_CASE("task_struct objects at facts' addresses give their pid and comm, the task list links them",
          "[object][facts]") {
  for (const DumpCase* dump : object_test_dumps()) {
    if (fact_tasks(*dump).empty()) continue;
    SECTION(dump->id) {
      CommandRunner run(*dump);
      const Program& program = run.program();
      auto graph = kernel_types(program);
      REQUIRE(graph);
      const symbols::QualifiedType task_type = kernel_type(program, "struct task_struct");
      std::set<uint64_t> addresses;
      for (const auto& task : fact_tasks(*dump)) {
        const uint64_t address = hex_value(task["task"]);
        addresses.insert(address);
        Object object = Object::reference(program, **graph, task_type, address);
        INFO("pid " << task["pid"] << " at " << task["task"]);
        CHECK(unsigned_of(object.member("pid")) == task["pid"].get<uint64_t>());
        CHECK(string_of(object.member("comm")) == task["comm"].get<std::string>());
        // (struct task_struct *)address, then ->tgid, as an expression would.
        auto pointer = Object::value(program, **graph, kernel_type(program, "struct task_struct *"), address);
        REQUIRE(pointer);
        CHECK(unsigned_of(pointer->deref()->member("tgid")) == task["tgid"].get<uint64_t>());
      }
      // init_task.tasks.next is the first task's tasks member: container_of
      // gives back a task of facts.
      auto next = global_object(program, "init_task")->member("tasks.next");
      REQUIRE(next);
      auto first = container_of(*next, task_type, "tasks");
      REQUIRE(first);
      CHECK(addresses.count(unsigned_of(first)));
      CHECK(string_of(first->deref()->member("comm")) == "init");
    }
  }
}

TEST_CASE("per-CPU variables: runqueues of every possible CPU holds its own CPU number", "[object][percpu]") {
  for (const DumpCase* dump : object_test_dumps()) {
    SECTION(dump->id) {
      CommandRunner run(*dump);
      const Program& program = run.program();
      auto cpus = possible_cpus(program);
      REQUIRE(cpus);
      CHECK(*cpus == std::vector<uint32_t>{0, 1});  // every fixture kernel ran on 2 CPUs
      auto runqueues = find_global(program, "runqueues");
      REQUIRE(runqueues);
      CHECK(runqueues->per_cpu);
      CHECK_FALSE(global_object(program, "runqueues"));  // needs a CPU
      std::set<uint64_t> seen;
      for (uint32_t cpu : *cpus) {
        auto rq = per_cpu(*runqueues, cpu);
        REQUIRE(rq);
        CHECK(unsigned_of(rq->member("cpu")) == cpu);
        seen.insert(*rq->address());
        // The expression forms agree.
        auto via_function = evaluate(program, fmt::format("per_cpu(runqueues, {}).cpu", cpu));
        CHECK(unsigned_of(via_function) == cpu);
        auto via_option = evaluate(program, "runqueues.cpu", EvaluationOptions{cpu});
        CHECK(unsigned_of(via_option) == cpu);
      }
      CHECK(seen.size() == cpus->size());
      auto missing = per_cpu(*runqueues, 4096);
      REQUIRE_FALSE(missing);
      CHECK_THAT(missing.error().message(), Catch::Contains("CPU 4096"));
    }
  }
}

TEST_CASE("object errors name what is missing and where", "[object][errors]") {
  const DumpCase* dump = object_test_dumps().front();
  CommandRunner run(*dump);
  const Program& program = run.program();
  auto unknown = global_object(program, "no_such_symbol_anywhere");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code() == Errc::not_found);
  CHECK_THAT(unknown.error().message(), Catch::Contains("no_such_symbol_anywhere"));

  auto init_task = global_object(program, "init_task");
  REQUIRE(init_task);
  auto member = init_task->member("no_such_member");
  REQUIRE_FALSE(member);
  CHECK_THAT(member.error().message(), Catch::Contains("no member 'no_such_member'"));

  auto out_of_bounds = init_task->member("comm")->index(16);
  REQUIRE_FALSE(out_of_bounds);
  CHECK_THAT(out_of_bounds.error().message(), Catch::Contains("out of bounds"));

  auto not_pointer = init_task->member("pid")->deref();
  REQUIRE_FALSE(not_pointer);
  CHECK_THAT(not_pointer.error().message(), Catch::Contains("not a pointer"));

  auto void_deref = init_task->member("stack")->deref();
  REQUIRE_FALSE(void_deref);
  CHECK_THAT(void_deref.error().message(), Catch::Contains("void pointer"));

  auto bitfield = init_task->member("in_execve");
  REQUIRE(bitfield);
  CHECK(bitfield->bit_size() == 1);
  CHECK_FALSE(bitfield->address_of());

  // An unmapped kernel address: the fault names it.
  auto graph = kernel_types(program);
  REQUIRE(graph);
  Object nowhere = Object::reference(program, **graph, kernel_type(program, "unsigned long"), 0x10);
  auto fault = nowhere.read_unsigned();
  REQUIRE_FALSE(fault);
  CHECK_THAT(fault.error().message(), Catch::Contains("0x10"));
}

TEST_CASE("reading an excluded page of a filtered dump fails with the address and the reason", "[object][filtered]") {
  for (const DumpCase& dump : all_dumps()) {
    if (dump.id != "x86_64/oops-kdump/d31") continue;
    CommandRunner run(dump);
    const Program& program = run.program();
    const uint64_t page = program.arch().page_size();
    std::optional<uint64_t> excluded;
    std::vector<std::byte> buf(8);
    for (const PhysRange& r : program.dump().ranges()) {
      for (uint64_t a = r.start; a < r.end() && !excluded; a += page) {
        auto got = program.dump().read(a, buf);
        if (!got && got.error().code() == Errc::excluded_by_filter) excluded = a;
      }
      if (excluded) break;
    }
    REQUIRE(excluded);
    // The direct map starts at page_offset_base (x86_64, randomized).
    const uint64_t direct_map = unsigned_of(global_object(program, "page_offset_base"));
    auto object = evaluate(program, fmt::format("*(unsigned long *){:#x}", direct_map + *excluded));
    REQUIRE(object);
    auto value = object->read_unsigned();
    REQUIRE_FALSE(value);
    CHECK(value.error().code() == Errc::excluded_by_filter);
    CHECK_THAT(value.error().message(), Catch::Contains(fmt::format("{:#x}", direct_map + *excluded)));
    CHECK_THAT(value.error().message(), Catch::Contains("excluded"));
  }
}

TEST_CASE("scalar_from_bytes extracts bitfields and sign-extends", "[object][synthetic]") {
  const std::byte bytes[] = {std::byte{0xf0}, std::byte{0x0f}, std::byte{0x80}, std::byte{0xff},
                             std::byte{0x01}, std::byte{0x02}, std::byte{0x03}, std::byte{0x04},
                             std::byte{0xaa}};
  std::span<const std::byte> all(bytes);
  CHECK(scalar_from_bytes(all.first(1), 0, 0, false) == 0xf0);
  CHECK(scalar_from_bytes(all.first(1), 0, 0, true) == static_cast<uint64_t>(-16));
  CHECK(scalar_from_bytes(all.first(2), 0, 0, false) == 0x0ff0);
  CHECK(scalar_from_bytes(all.first(8), 0, 0, false) == 0x04030201ff800ff0ULL);
  CHECK(scalar_from_bytes(all, 4, 8, false) == 0xff);   // straddles bytes 0 and 1
  CHECK(scalar_from_bytes(all, 4, 8, true) == static_cast<uint64_t>(-1));
  CHECK(scalar_from_bytes(all, 12, 1, false) == 0);
  CHECK(scalar_from_bytes(all, 23, 1, true) == static_cast<uint64_t>(-1));
  CHECK(scalar_from_bytes(all, 4, 64, false) == 0xa04030201ff800ffULL);  // 9 bytes touched
  CHECK(scalar_from_bytes(all.first(2), 12, 16, false) == 0);  // bits past the end read as zero
}

TEST_CASE("expressions: syntax errors are one-line messages", "[object][expression]") {
  const DumpCase* dump = object_test_dumps().front();
  CommandRunner run(*dump);
  const Program& program = run.program();
  for (const char* bad : {"init_task.", "(struct task_struct *", "init_task[", "1 +", "init_task @ 1", "0x", "", ")"}) {
    INFO(bad);
    auto result = evaluate(program, bad);
    REQUIRE_FALSE(result);
    CHECK(result.error().message().find('\n') == std::string::npos);
  }
  CHECK(unsigned_of(evaluate(program, "sizeof(struct list_head)")) == 16);
  CHECK(unsigned_of(evaluate(program, "sizeof init_task.comm")) == 16);
  CHECK(unsigned_of(evaluate(program, "2 + 3 * 4")) == 14);
  CHECK(unsigned_of(evaluate(program, "(unsigned char)0x1ff")) == 0xff);
  CHECK(unsigned_of(evaluate(program, "PIDTYPE_TGID")) == 1);
  const uint64_t base = unsigned_of(evaluate(program, "&init_task"));
  CHECK(unsigned_of(evaluate(program, "&init_task.tasks")) == base + *program.member_offset("task_struct", "tasks"));
  CHECK(unsigned_of(evaluate(program, "(struct list_head *)&init_task.tasks + 1")) ==
        base + *program.member_offset("task_struct", "tasks") + 16);
  CHECK(unsigned_of(evaluate(program, "&((struct task_struct *)0)->tasks")) ==
        *program.member_offset("task_struct", "tasks"));
}

}  // namespace coroner::test
