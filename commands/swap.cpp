// swap: the swap areas in use as crash's swap: SWAP_INFO_STRUCT TYPE SIZE
// USED PCT PRI FILENAME, sizes in KiB; only the header without swap.
#include "analyzer/os/linux/swap_areas.hpp"
#include "commands/builtin.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

// Centered in `width` columns; an odd space goes left (extra_left) or right.
std::string center(std::string_view text, size_t width, bool extra_left) {
  size_t pad = width > text.size() ? width - text.size() : 0;
  size_t left = extra_left ? pad - pad / 2 : pad / 2;
  return std::string(left, ' ') + std::string(text) + std::string(pad - left, ' ');
}

Expected<void> run_swap(CommandContext& ctx, const Arguments& args) {
  if (!args.empty()) return make_error(Errc::invalid_argument, "swap takes no arguments");
  CORONER_TRY(areas, linux_kernel::swap_areas(ctx.program));
  const uint64_t kib_per_page = ctx.program.arch().page_size() / 1024;
  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const linux_kernel::SwapArea& a : areas) {
      nlohmann::json entry = {{"swap_info_struct", fmt::format("{:#x}", a.address)},
                              {"type", a.partition ? "PARTITION" : "FILE"},
                              {"size_kib", a.pages * kib_per_page},
                              {"used_kib", a.inuse_pages * kib_per_page},
                              {"pri", a.prio},
                              {"filename", a.filename}};
      if (a.error) entry["error"] = a.error->message();
      list.push_back(std::move(entry));
    }
    ctx.emit({{"swap", list}});
    return {};
  }
  ctx.out << "SWAP_INFO_STRUCT    TYPE       SIZE       USED     PCT  PRI  FILENAME\n";
  for (const linux_kernel::SwapArea& a : areas) {
    uint64_t size = a.pages * kib_per_page, used = a.inuse_pages * kib_per_page;
    uint64_t pct = size ? used * 100 / size : 0;
    ctx.out << center(fmt::format("{:x}", a.address), 16, false) << "  " << (a.partition ? "PARTITION" : "  FILE   ")
            << ' ' << center(fmt::format("{}k", size), 10, true) << ' ' << center(fmt::format("{}k", used), 10, true)
            << ' ' << center(fmt::format("{:2}%", pct), 4, true) << ' ' << fmt::format("{:>4}", a.prio) << "  "
            << a.filename << '\n';
  }
  for (const linux_kernel::SwapArea& a : areas)
    if (a.error) ctx.out << "swap: " << a.error->message() << '\n';
  return {};
}

}  // namespace

Command swap_command() {
  return {"swap", "the swap areas in use",
          "  swap\n"
          "    SWAP_INFO_STRUCT TYPE (PARTITION or FILE) SIZE USED (KiB) PCT PRI FILENAME of each swap area in\n"
          "    use; the header alone when there is none\n"
          "  crash> swap",
          run_swap};
}

}  // namespace coroner::commands
