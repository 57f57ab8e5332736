// A plugin whose command throws (and one of whose commands throws a
// non-std exception), whose triage check throws, and one check that
// always finds something (to see a finding in the report).
#include <coroner/plugin.hpp>

#include <stdexcept>

namespace {

void init(coroner::plugin::Registrar& registrar) {
  registrar.command("boom", "throws", "  boom\n  crash> boom", {},
                    [](coroner::plugin::Context&, const std::vector<std::string>&) {
                      throw std::runtime_error("boom went the plugin");
                    });
  registrar.command("boomint", "throws an int", "  boomint\n  crash> boomint", {},
                    [](coroner::plugin::Context&, const std::vector<std::string>&) { throw 42; });
  registrar.command("badread", "reads an unmapped address", "  badread\n  crash> badread", {},
                    [](coroner::plugin::Context& ctx, const std::vector<std::string>&) { ctx.read_u64(0x10).value(); });
  registrar.triage_check("boom-check", [](const coroner::plugin::Kernel&) -> std::vector<coroner::plugin::Finding> {
    throw std::runtime_error("the check failed");
  });
  registrar.triage_check("always", [](const coroner::plugin::Kernel& kernel) {
    const uint64_t magic = kernel.variable("fx_magic").value().as_unsigned().value();
    return std::vector<coroner::plugin::Finding>{{"info", "fx_magic is " + coroner::plugin::hex(magic), {"a detail"}}};
  });
}

}  // namespace

CORONER_PLUGIN("throwing", "1.0", "commands that throw", init)
