// A plugin whose init throws: it must leave nothing registered.
#include <coroner/plugin.hpp>

#include <stdexcept>

namespace {

void init(coroner::plugin::Registrar& registrar) {
  registrar.command("halfway", "registered before init threw", "  halfway\n  crash> halfway", {},
                    [](coroner::plugin::Context& ctx, const std::vector<std::string>&) { ctx.print("never\n"); });
  throw std::runtime_error("init gave up");
}

}  // namespace

CORONER_PLUGIN("throwinginit", "1.0", "init throws", init)
