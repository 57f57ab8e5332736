// vtop: translate a virtual address and show every page-table level, as
// crash's vtop [-c PID|-u|-k] ADDRESS.
#include "analyzer/os/linux/tasks.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/memory_reader.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

std::string size_text(uint64_t bytes) {
  if (bytes >= (1ull << 30)) return fmt::format("{} GB", bytes >> 30);
  if (bytes >= (1ull << 20)) return fmt::format("{} MB", bytes >> 20);
  return fmt::format("{} KB", bytes >> 10);
}

Expected<void> run_vtop(CommandContext& ctx, const Arguments& args) {
  std::optional<AddressSpace> space;
  std::optional<int64_t> pid;
  std::vector<std::string_view> addresses;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-u") space = AddressSpace::user;
    else if (a == "-k") space = AddressSpace::kernel;
    else if (a == "-c") {
      if (++i == args.size()) return make_error(Errc::invalid_argument, "-c needs a PID");
      CORONER_TRY(p, parse_pid(args[i]));
      pid = p;
      space = AddressSpace::user;
    } else if (a.starts_with("-")) return make_error(Errc::invalid_argument, "unknown option {}", a);
    else addresses.push_back(a);
  }
  if (addresses.empty()) return make_error(Errc::invalid_argument, "missing address (usage: vtop [-c PID|-u|-k] ADDRESS)");

  const Program& program = ctx.program;
  nlohmann::json results = nlohmann::json::array();
  std::optional<Error> first_failure;
  for (std::string_view text : addresses) {
    CORONER_TRY(vaddr, parse_address(program, text));
    AddressSpace where = space.value_or(program.arch().is_user_address(vaddr) ? AddressSpace::user : AddressSpace::kernel);
    CORONER_TRY(reader, MemoryReader::make(ctx, where, pid));
    arch::Translation t = program.memory().translate(vaddr, reader.root());

    if (ctx.json()) {
      nlohmann::json levels = nlohmann::json::array();
      for (const arch::WalkStep& s : t.steps)
        levels.push_back({{"level", s.level}, {"table", fmt::format("{:#x}", s.table)}, {"index", s.index},
                          {"entry_addr", fmt::format("{:#x}", s.entry_addr)}, {"entry", fmt::format("{:#x}", s.entry)},
                          {"flags", s.flags}});
      nlohmann::json doc = {{"vaddr", fmt::format("{:#x}", vaddr)},
                            {"paddr", t.paddr ? nlohmann::json(fmt::format("{:#x}", *t.paddr)) : nlohmann::json(nullptr)},
                            {"space", address_space_name(where)},
                            {"root", fmt::format("{:#x}", t.root)},
                            {"page_size", t.page_size},
                            {"levels", levels}};
      if (t.error) doc["error"] = t.error->message();
      results.push_back(doc);
    } else {
      ctx.out << fmt::format("{:<16}  {}\n", "VIRTUAL", "PHYSICAL");
      ctx.out << fmt::format("{:<16x}  {}\n\n", vaddr, t.paddr ? fmt::format("{:x}", *t.paddr) : "(not mapped)");
      ctx.out << fmt::format("{} PAGE DIRECTORY: {:x} (physical)\n", where == AddressSpace::user ? "USER" : "KERNEL", t.root);
      for (const arch::WalkStep& s : t.steps)
        ctx.out << fmt::format("  {:>5}: {:x} => {:x}  ({})\n", s.level, s.entry_addr, s.entry, s.flags);
      if (t.paddr) ctx.out << fmt::format("   PAGE: {:x}  ({} page)\n", *t.paddr & ~(t.page_size - 1), size_text(t.page_size));
      if (t.error) ctx.out << fmt::format("  {}\n", t.error->message());
      if (addresses.size() > 1) ctx.out << '\n';
    }
    if (t.error && !first_failure) first_failure = *t.error;
  }
  if (ctx.json()) ctx.emit(results.size() == 1 ? results[0] : results);
  if (first_failure && addresses.size() == 1) return *first_failure;
  return {};
}

}  // namespace

Command vtop_command() {
  return {"vtop", "virtual to physical: the page-table walk, level by level",
          "  vtop [-c PID | -u | -k] ADDRESS...\n"
          "    -c PID  user address in the address space of PID\n"
          "    -u      user address of the task context (set PID)\n"
          "    -k      kernel virtual address (default for kernel-half addresses)\n"
          "  crash> vtop init_task",
          run_vtop};
}

}  // namespace coroner::commands
