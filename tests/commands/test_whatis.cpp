// whatis and ptype: declarations as crash and gdb print them (texts of
// crash 8.0.2 on the fixture kernels).
#include "tests/analyzer/test_object_dumps.hpp"
#include "tests/commands/command_runner.hpp"

namespace coroner::test {

TEST_CASE("whatis prints declarations of symbols, expressions and types as crash does", "[whatis]") {
  for (const DumpCase* dump : object_test_dumps()) {
    SECTION(dump->id) {
      CommandRunner run(*dump);
      CHECK(run.text("whatis init_task") == "struct task_struct init_task;\n");
      CHECK(run.text("whatis jiffies_64") == "u64 jiffies_64;\n");
      const size_t banner = dump->facts()["values"]["linux_banner"].get<std::string>().size() + 1;
      CHECK(run.text("whatis linux_banner") == fmt::format("const char linux_banner[{}];\n", banner));
      CHECK(run.text("whatis runqueues") == "struct rq runqueues;\n");
      CHECK(run.text("whatis schedule") == "void schedule(void);\n");
      CHECK(run.text("whatis init_task.tasks") == "struct list_head\n");
      CHECK(run.text("whatis init_task.comm") == "char [16]\n");
      CHECK(run.text("whatis &init_task.comm") == "char (*)[16]\n");
      CHECK(run.text("whatis init_task.sched_class") == "const struct sched_class *\n");
      CHECK(run.text("whatis u64") == "typedef unsigned long long u64;\nSIZE: 8\n");
      CHECK(run.text("whatis struct list_head") ==
            "struct list_head {\n    struct list_head *next;\n    struct list_head *prev;\n}\nSIZE: 16\n");
      CHECK(run.text("whatis enum pid_type") ==
            "enum pid_type {\n  PIDTYPE_PID = 0\n  PIDTYPE_TGID = 1\n  PIDTYPE_PGID = 2\n  PIDTYPE_SID = 3\n"
            "  PIDTYPE_MAX = 4\n};\n");
      nlohmann::json json = run.json("whatis init_task");
      CHECK(json["type"] == "struct task_struct");
      CHECK(json["declaration"] == "struct task_struct init_task;");
      CHECK(json["size"] == *run.program().type_size("struct task_struct"));
      CHECK(run.json("whatis enum pid_type")["enumerators"]["PIDTYPE_SID"] == 3);
    }
  }
}

TEST_CASE("ptype prints types expanded as gdb does", "[whatis][ptype]") {
  for (const DumpCase* dump : object_test_dumps()) {
    SECTION(dump->id) {
      CommandRunner run(*dump);
      CHECK(run.text("ptype struct list_head") ==
            "type = struct list_head {\n    struct list_head *next;\n    struct list_head *prev;\n}\n");
      CHECK(run.text("ptype init_task.tasks") == run.text("ptype struct list_head"));
      CHECK(run.text("ptype struct hlist_node") ==
            "type = struct hlist_node {\n    struct hlist_node *next;\n    struct hlist_node **pprev;\n}\n");
      CHECK(run.text("ptype u64") == "type = unsigned long long\n");
      CHECK(run.text("ptype init_task.se.load") ==
            "type = struct load_weight {\n    unsigned long weight;\n    u32 inv_weight;\n}\n");
      CHECK(run.text("ptype enum pid_type") ==
            "type = enum pid_type {PIDTYPE_PID, PIDTYPE_TGID, PIDTYPE_PGID, PIDTYPE_SID, PIDTYPE_MAX}\n");
      CHECK(run.text("ptype struct list_head *") ==
            "type = struct list_head {\n    struct list_head *next;\n    struct list_head *prev;\n} *\n");
      CHECK(run.text("ptype schedule") == "type = void (void)\n");
      nlohmann::json json = run.json("ptype struct list_head");
      CHECK(json["size"] == 16);
      CHECK(json["members"][1]["name"] == "prev");
      CHECK(json["members"][1]["offset"] == 8);
      CHECK(json["members"][1]["type"] == "struct list_head *");
    }
  }
}

TEST_CASE("whatis and ptype errors are one line", "[whatis][errors]") {
  const DumpCase* dump = object_test_dumps().front();
  CommandRunner run(*dump);
  CHECK_THAT(run.failure("whatis struct no_such_type"), Catch::Contains("no type named 'struct no_such_type'"));
  CHECK_THAT(run.failure("ptype no_such_symbol"), Catch::Contains("no_such_symbol"));
  CHECK_THAT(run.failure("whatis init_task.no_such_member"), Catch::Contains("no member 'no_such_member'"));
  CHECK_THAT(run.failure("whatis"), Catch::Contains("name a type"));
}

}  // namespace coroner::test
