// ptob and btop: crash's page-frame arithmetic. ptob PFN... prints
// "PFN: BYTES" (the PFN decimal unless it looks hex), btop ADDRESS... prints
// "ADDRESS: PFN" (the address hex), both in hex, with the dump's page size.
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"

#include <bit>
#include <ostream>

namespace coroner::commands {

namespace {

Expected<void> run_page_arithmetic(CommandContext& ctx, const Arguments& args, bool to_bytes) {
  std::string_view usage = to_bytes ? "ptob PAGE_FRAME_NUMBER ..." : "btop ADDRESS ...";
  if (args.empty()) return make_error(Errc::invalid_argument, "missing argument (usage: {})", usage);
  const uint64_t page_size = ctx.program.arch().page_size();
  const int shift = std::countr_zero(page_size);
  nlohmann::json results = nlohmann::json::array();
  for (const std::string& word : args) {
    if (word.starts_with("-")) return make_error(Errc::invalid_argument, "unknown option {} (usage: {})", word, usage);
    // crash: a PFN is decimal unless it has hex letters; an address is hex.
    auto parsed = parse_number(word, to_bytes ? 10 : 16);
    if (!parsed && to_bytes) parsed = parse_number(word, 16);
    CORONER_TRY(value, std::move(parsed));
    if (to_bytes && value > (~uint64_t{0} >> shift))
      return make_error(Errc::invalid_argument, "{}: page frame number too large for {}-byte pages", word, page_size);
    uint64_t result = to_bytes ? value << shift : value >> shift;
    if (ctx.json())
      results.push_back(to_bytes ? nlohmann::json{{"pfn", value}, {"address", fmt::format("{:#x}", result)}}
                                 : nlohmann::json{{"address", fmt::format("{:#x}", value)}, {"pfn", result}});
    else
      ctx.out << fmt::format("{:x}: {:x}\n", value, result);
  }
  if (ctx.json()) ctx.emit(results.size() == 1 ? results[0] : results);
  return {};
}

Expected<void> run_ptob(CommandContext& ctx, const Arguments& args) { return run_page_arithmetic(ctx, args, true); }
Expected<void> run_btop(CommandContext& ctx, const Arguments& args) { return run_page_arithmetic(ctx, args, false); }

}  // namespace

Command ptob_command() {
  return {"ptob", "page frame number to byte address (times the page size)",
          "  ptob PAGE_FRAME_NUMBER ...\n"
          "    each number (decimal, or hex with 0x or hex letters): \"PFN: ADDRESS\" in hex\n"
          "  crash> ptob 512a",
          run_ptob};
}

Command btop_command() {
  return {"btop", "byte address to page frame number (divided by the page size)",
          "  btop ADDRESS ...\n"
          "    each address (hex): \"ADDRESS: PFN\" in hex\n"
          "  crash> btop 512a000",
          run_btop};
}

}  // namespace coroner::commands
