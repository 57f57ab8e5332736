// A test plugin that goes through the API's reads once -- memory of each
// address space, symbols, types of vmlinux and of a module, typed objects,
// container_of, modules, CPUs -- and emits what it read, for the test to
// hold against facts.json.
#include <coroner/plugin.hpp>

#include <cstdlib>

namespace {

using namespace coroner::plugin;

std::string bytes_hex(const std::vector<uint8_t>& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) out += {digits[b >> 4], digits[b & 0xf]};
  return out;
}

uint64_t number(const std::string& text) { return std::strtoull(text.c_str(), nullptr, 0); }

// apitour KVADDR PADDR PID: 8 bytes at KVADDR and PADDR, 16 of PID's user memory at 0x400000.
void apitour(Context& ctx, const std::vector<std::string>& args) {
  if (args.size() != 3) throw Failure("usage: apitour KVADDR PADDR PID");
  Json out = Json::object();
  out["kernel"] = bytes_hex(ctx.read(Space::kernel_virtual, number(args[0]), 8).value());
  out["physical"] = bytes_hex(ctx.read(Space::physical, number(args[1]), 8).value());
  const auto user = ctx.read(Space::user, 0x400000, 16, static_cast<int64_t>(number(args[2])));
  out["user"] = user ? Json(bytes_hex(*user)) : Json("error: " + user.error());
  const uint64_t panic = ctx.symbol_address("panic").value();
  out["panic"] = hex(panic);
  const auto at = ctx.symbol_at(panic + 5);
  out["panic_plus_5"] = at ? Json(at->name + "+" + std::to_string(at->offset)) : Json();
  out["fx_item_size"] = ctx.type_size("struct fx_item").value();
  out["fx_item_node"] = ctx.member_offset("struct fx_item", "node").value();
  const uint64_t init_task = ctx.symbol_address("init_task").value();
  out["init_task_comm"] = ctx.object_at("struct task_struct", init_task).value().member("comm").value().as_string().value();
  const Object first = ctx.variable("fx_items").value().member("next").value().container_of("struct fx_item", "node").value();
  out["first_item_id"] = first.member("id").value().as_unsigned().value();
  out["first_item_type"] = first.type_name();
  Json modules = Json::array();
  for (const Module& m : ctx.modules().value()) modules.push_back(Json::object({{"name", m.name}, {"base", hex(m.base)}}));
  out["modules"] = modules;
  Json cpus = Json::object();
  for (const Cpu& c : ctx.cpus().value()) cpus[std::to_string(c.number)] = hex(c.current_task);
  out["cpus"] = cpus;
  ctx.emit(out);
}

void init(Registrar& registrar) {
  registrar.command("apitour", "reads through the plugin API", "  apitour KVADDR PADDR PID\n  crash> apitour 0 0 1", {}, apitour);
}

}  // namespace

CORONER_PLUGIN("apitour", "1.0", "the API's reads, for the tests", init)
