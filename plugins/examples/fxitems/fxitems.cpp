// fxitems: the fixture module's (fx_crash.ko) list fx_items, one line per
// struct fx_item -- the smallest plugin that walks a kernel list with the
// typed object API.
#include <coroner/plugin.hpp>

#include <cstdio>

namespace {

using namespace coroner::plugin;

void fxitems(Context& ctx, const std::vector<std::string>& args) {
  if (!args.empty()) throw Failure("usage: fxitems");
  const Object head = ctx.variable("fx_items").value();
  if (!head.address()) throw Failure("fx_items has no address");
  const std::vector<Object> items = ctx.list_entries(*head.address(), "struct fx_item", "node").value();
  Json list = Json::array();
  std::string text = "      ITEM          ID  NAME              VALUE\n";
  for (const Object& item : items) {
    const uint64_t id = item.member("id").value().as_unsigned().value();
    const std::string name = item.member("name").value().as_string().value();
    const uint64_t value = item.member("value").value().as_unsigned().value();
    list.push_back(Json::object({{"addr", hex(*item.address())}, {"id", id}, {"name", name}, {"value", hex(value)}}));
    char line[128];
    std::snprintf(line, sizeof line, "%016llx  %4llu  %-16s  %016llx\n", static_cast<unsigned long long>(*item.address()),
                  static_cast<unsigned long long>(id), name.c_str(), static_cast<unsigned long long>(value));
    text += line;
  }
  if (ctx.json()) ctx.emit(Json::object({{"fx_items", list}}));
  else ctx.print(text);
}

void init(Registrar& registrar) {
  registrar.command("fxitems", "list fx_crash.ko's fx_items (an example plugin)",
                    "  fxitems\n"
                    "    lists each struct fx_item on the list fx_items: ITEM ID NAME VALUE\n"
                    "  crash> fxitems",
                    {}, fxitems);
}

}  // namespace

CORONER_PLUGIN("fxitems", "1.0", "lists the test module's fx_items", init)
