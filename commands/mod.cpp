// mod: the loaded kernel modules and their object files, as crash's
// mod [-s NAME [FILE]] [-S [DIR]]. Objects are found and attached
// automatically (--mod-path, vmlinux's directory, /lib/modules); -s and -S
// attach them by hand.
#include "analyzer/os/linux/modules.hpp"
#include "commands/builtin.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

std::string_view match_name(ObjectMatch match) {
  switch (match) {
    case ObjectMatch::build_id: return "build-id";
    case ObjectMatch::name_only: return "name only (unverified)";
    case ObjectMatch::none: break;
  }
  return "none";
}

void print(CommandContext& ctx, const std::vector<const KernelModule*>& modules) {
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const KernelModule* m : modules) {
      nlohmann::json entry = {{"module", fmt::format("{:#x}", m->struct_address)},
                              {"name", m->name},
                              {"base", fmt::format("{:#x}", m->base)},
                              {"size", m->size},
                              {"object_file", m->object_path().empty() ? nlohmann::json() : nlohmann::json(m->object_path())},
                              {"debug_info", m->has_dwarf()},
                              {"btf", m->object_path().empty() && m->has_types()},
                              {"match", match_name(m->match())},
                              {"build_id", m->build_id}};
      if (!m->problem.empty()) entry["problem"] = m->problem;
      list.push_back(std::move(entry));
    }
    nlohmann::json document = {{"modules", list}};
    if (const auto& skipped = ctx.program.modules_skipped(); !skipped.empty()) {
      std::vector<std::string> errors;
      for (const Error& e : skipped) errors.push_back(e.message());
      document["errors"] = errors;
    }
    ctx.emit(document);
    return;
  }
  // A damaged module list: what was lost, before the modules read.
  for (const Error& e : ctx.program.modules_skipped()) ctx.out << "WARNING: module list: " << e.message() << '\n';
  size_t name_width = 4;
  for (const KernelModule* m : modules) name_width = std::max(name_width, m->name.size());
  ctx.out << fmt::format("{:>16}  {:<{}}  {:>16}  {:>8}  OBJECT FILE\n", "MODULE", "NAME", name_width, "BASE", "SIZE");
  for (const KernelModule* m : modules) {
    std::string object;
    if (m->object_path().empty()) {
      // Without its .ko a module still has the names of its kallsyms.
      const std::string why = m->problem.empty() ? "" : ": " + m->problem;
      const char* from = m->has_types() ? "symbols and BTF" : "symbols";
      object = m->has_symbols() ? fmt::format("(not loaded{}; {} from memory)", why, from)
                                : fmt::format("(not loaded{})", why);
    }
    else object = m->object_path();
    if (!m->object_path().empty() && !m->has_dwarf()) object += " (no debug info)";
    if (m->match() == ObjectMatch::name_only) object += " (unverified: no build-id to compare)";
    ctx.out << fmt::format("{:016x}  {:<{}}  {:016x}  {:>8}  {}\n", m->struct_address, m->name, name_width, m->base,
                           m->size, object);
  }
}

Expected<void> run_mod(CommandContext& ctx, const Arguments& args) {
  CORONER_TRY(list, ctx.program.modules());
  std::vector<const KernelModule*> shown;
  if (args.empty()) {
    for (const auto& m : *list) shown.push_back(m.get());
    print(ctx, shown);
    return {};
  }
  if (args[0] == "-s") {
    if (args.size() < 2 || args.size() > 3) return make_error(Errc::invalid_argument, "usage: mod -s NAME [FILE]");
    KernelModule* module = ctx.program.find_module(args[1]);
    if (!module) return make_error(Errc::not_found, "{}: no such module loaded", args[1]);
    if (args.size() == 3) {
      CORONER_CHECK(module->attach_object(args[2]));
    } else {
      linux_kernel::attach_objects(*list, linux_kernel::module_search_dirs(ctx.program), /*replace=*/true);
      if (module->object_path().empty()) return make_error(Errc::not_found, "{}: {}", module->name, module->problem);
    }
    shown.push_back(module);
    print(ctx, shown);
    return {};
  }
  if (args[0] == "-S") {
    if (args.size() > 2) return make_error(Errc::invalid_argument, "usage: mod -S [DIR]");
    std::vector<std::string> dirs = args.size() == 2 ? std::vector<std::string>{args[1]}
                                                     : linux_kernel::module_search_dirs(ctx.program);
    linux_kernel::attach_objects(*list, dirs, /*replace=*/true);
    for (const auto& m : *list) shown.push_back(m.get());
    print(ctx, shown);
    return {};
  }
  return make_error(Errc::invalid_argument, "unknown option {} (usage: mod [-s NAME [FILE]] [-S [DIR]])", args[0]);
}

}  // namespace

Command mod_command() {
  return {"mod", "list the loaded kernel modules and load their symbols and debug info",
          "  mod [-s NAME [FILE]] [-S [DIR]]\n"
          "    (none)       list modules: MODULE NAME BASE SIZE OBJECT FILE\n"
          "    -s NAME      attach NAME's object file from FILE, or found in the search path\n"
          "    -S [DIR]     attach every module's object file found under DIR (or the search path)\n"
          "  Objects are looked for in --mod-path, vmlinux's directory, /lib/modules/RELEASE and\n"
          "  /usr/lib/debug/lib/modules/RELEASE, matched by name and checked by build-id (without a\n"
          "  vmlinux, not in its directory). A module without its object keeps the symbols the kernel\n"
          "  holds in memory, and without a vmlinux the types of its BTF (JSON: btf).\n"
          "  crash> mod\n"
          "  crash> mod -s fx_crash",
          run_mod};
}

}  // namespace coroner::commands
