// pte: what a page-table entry value says, as crash's pte CONTENTS...: the
// entry, the physical page it names and its bits (PTE PHYSICAL FLAGS), per
// architecture. A non-zero entry that maps no page is a swap location,
// which is not decoded (crash cannot either without swap devices).
#include "analyzer/arch/pte_decode.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "pte CONTENTS ...";

// crash's columns: each as wide as its header or its value, headers
// centred with the odd space on the right, values with it on the left.
std::string centered(std::string_view text, size_t width, bool value) {
  if (text.size() >= width) return std::string(text);
  const size_t extra = width - text.size(), left = extra / 2 + (value ? extra % 2 : 0);
  return std::string(left, ' ') + std::string(text) + std::string(extra - left, ' ');
}

std::string flag_text(const std::vector<std::string>& flags) {
  if (flags.empty()) return "no mapping";
  std::string out;
  for (const std::string& f : flags) out += (out.empty() ? "" : "|") + f;
  return out;
}

Expected<void> run_pte(CommandContext& ctx, const Arguments& args) {
  if (args.empty()) return make_error(Errc::invalid_argument, "missing entry (usage: {})", kUsage);
  const Machine machine = ctx.program.arch().machine();
  const uint64_t page_size = ctx.program.arch().page_size();
  nlohmann::json results = nlohmann::json::array();
  for (const std::string& word : args) {
    if (word.starts_with("-")) return make_error(Errc::invalid_argument, "unknown option {} (usage: {})", word, kUsage);
    CORONER_TRY(pte, parse_number(word, 16));
    const arch::DecodedPte d = arch::decode_pte(machine, page_size, pte);
    if (!d.maps_page && pte != 0)
      return make_error(Errc::unsupported, "{:#x} maps no page: it holds a swap location, which is not decoded", pte);
    if (ctx.json()) {
      results.push_back({{"pte", fmt::format("{:#x}", pte)},
                         {"physical", fmt::format("{:#x}", d.physical)},
                         {"present", d.maps_page},
                         {"flags", d.flags}});
      continue;
    }
    const std::string entry = fmt::format("{:x}", pte), physical = fmt::format("{:x}", d.physical);
    const size_t w1 = std::max<size_t>(entry.size(), 3), w2 = std::max<size_t>(physical.size(), 8);
    ctx.out << centered("PTE", w1, false) << "  " << centered("PHYSICAL", w2, false) << "  FLAGS\n";
    ctx.out << centered(entry, w1, true) << "  " << centered(physical, w2, true) << "  (" << flag_text(d.flags)
            << ")\n";
  }
  if (ctx.json()) ctx.emit(results.size() == 1 ? results[0] : results);
  return {};
}

}  // namespace

Command pte_command() {
  return {"pte", "decode page-table entry values: the physical page and the bits",
          "  pte CONTENTS ...\n"
          "    each entry value (hex): PTE PHYSICAL FLAGS, the flags as the architecture names them\n"
          "    (x86_64: PRESENT RW USER PWT PCD ACCESSED DIRTY PSE PROTNONE GLOBAL NX;\n"
          "    arm64: VALID PROT_NONE USER RDONLY SHARED AF NG PXN UXN DIRTY SPECIAL)\n"
          "  crash> pte 8000000006a11063",
          run_pte};
}

}  // namespace coroner::commands
