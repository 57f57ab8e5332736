// tree: the entries of a red-black tree, radix tree, XArray or maple tree,
// as crash's
//   tree [-t rbtree|radix|xarray|maple] [-r OFFSET] [-o OFFSET] [-s STRUCT[.MEMBER,...]]
//        [-x|-d] [-l] [-p] [-N] START
#include "analyzer/os/linux/kernel_trees.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/interrupt.hpp"
#include "commands/member_selection.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

enum class Kind { rbtree, radix, xarray, maple };

struct TreeRequest {
  Kind kind = Kind::rbtree;
  uint64_t root_offset = 0;  // -r
  uint64_t node_offset = 0;  // -o (rbtree)
  bool linear = false, positions = false, from_node = false;
  std::optional<MemberSelection> members;
  uint64_t start = 0;
};

Expected<Kind> parse_kind(std::string_view text) {
  if (text == "rbtree" || text == "rb") return Kind::rbtree;
  if (text == "radix" || text == "ra") return Kind::radix;
  if (text == "xarray" || text == "x") return Kind::xarray;
  if (text == "maple" || text == "m") return Kind::maple;
  return make_error(Errc::invalid_argument, "unknown tree type {} (rbtree, radix, xarray or maple)", text);
}

Expected<TreeRequest> parse(const Program& program, const Arguments& args) {
  TreeRequest r;
  std::vector<std::string_view> positional;
  std::optional<std::string_view> selection;
  IntegerBase base = IntegerBase::natural;
  bool node_offset_given = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> Expected<std::string_view> {
      if (i + 1 >= args.size()) return make_error(Errc::invalid_argument, "option {} needs a value", a);
      return std::string_view(args[++i]);
    };
    if (a == "-t") {
      CORONER_TRY(v, value());
      CORONER_TRY(kind, parse_kind(v));
      r.kind = kind;
    } else if (a == "-r" || a == "-o") {
      CORONER_TRY(v, value());
      CORONER_TRY(offset, parse_member_offset(program, v));
      (a == "-r" ? r.root_offset : r.node_offset) = offset;
      node_offset_given |= a == "-o";
    } else if (a == "-s" || a == "-S") {
      CORONER_TRY(v, value());
      selection = v;
    } else if (a == "-x") base = IntegerBase::hex;
    else if (a == "-d") base = IntegerBase::decimal;
    else if (a == "-N") r.from_node = true;
    else if (a.size() > 1 && a[0] == '-' && a.find_first_not_of("lp", 1) == std::string::npos) {
      r.linear |= a.find('l') != std::string::npos;  // crash's "-lp" style
      r.positions |= a.find('p') != std::string::npos;
    } else if (a.size() > 1 && a[0] == '-') return make_error(Errc::invalid_argument, "unknown option {}", a);
    else positional.push_back(a);
  }
  if (positional.empty()) return make_error(Errc::invalid_argument, "missing start address (usage: tree [options] START)");
  if (positional.size() > 1) return make_error(Errc::invalid_argument, "too many arguments: {}", positional[1]);
  if (r.kind != Kind::rbtree && (node_offset_given || r.linear))
    return make_error(Errc::invalid_argument, "-o and -l apply to red-black trees only");
  if (r.kind != Kind::rbtree && r.from_node) return make_error(Errc::unsupported, "-N is supported for rbtree only");
  CORONER_TRY(tail, parse_selection_and_start(program, selection, base, positional[0]));
  r.members = std::move(tail.members);
  r.start = tail.start;
  return r;
}

// One entry to print: the structure's (or stored pointer's) address and
// what -p shows about where it sits.
struct Entry {
  uint64_t address = 0;
  std::string position;  // text of -p, without the indent
  nlohmann::json where = nlohmann::json::object();
};

std::string slot_path(const linux_kernel::IndexedEntry& e) {
  std::string text = "root";
  for (uint16_t s : e.slots) text += fmt::format("/{}", s);
  return text;
}

Expected<std::vector<Entry>> collect(const Program& program, const TreeRequest& r) {
  const KernelMemory& memory = program.memory();
  const uint64_t root = r.start + r.root_offset;
  std::vector<Entry> entries;
  switch (r.kind) {
    case Kind::rbtree: {
      CORONER_TRY(layout, linux_kernel::rbtree_layout(program));
      auto order = r.linear ? linux_kernel::RbOrder::linear : linux_kernel::RbOrder::top_down;
      CORONER_TRY(nodes, linux_kernel::walk_rbtree(memory, layout, root, order, r.from_node));
      for (const auto& n : nodes) {
        std::string position = n.position();
        entries.push_back({n.address - r.node_offset, "position: " + position, {{"position", position}}});
      }
      return entries;
    }
    case Kind::radix:
    case Kind::xarray: {
      CORONER_TRY(layout, linux_kernel::xarray_layout(program));
      CORONER_TRY(found, linux_kernel::walk_xarray(memory, layout, root));
      for (const auto& e : found) {
        std::string path = slot_path(e);
        entries.push_back({e.value, fmt::format("index: {}  position: {}", e.index, path),
                           {{"index", e.index}, {"position", path}}});
      }
      return entries;
    }
    case Kind::maple: {
      CORONER_TRY(layout, linux_kernel::maple_tree_layout(program));
      CORONER_TRY(found, linux_kernel::walk_maple_tree(memory, layout, root));
      for (const auto& e : found)
        entries.push_back({e.value, fmt::format("range: {:#x}-{:#x}", e.first, e.last),
                           {{"first", fmt::format("{:#x}", e.first)}, {"last", fmt::format("{:#x}", e.last)}}});
      return entries;
    }
  }
  return entries;
}

Expected<void> run_tree(CommandContext& ctx, const Arguments& args) {
  CORONER_TRY(r, parse(ctx.program, args));
  CORONER_TRY(entries, collect(ctx.program, r));
  nlohmann::json list = nlohmann::json::array();
  for (Entry& e : entries) {
    CORONER_CHECK(check_interrupt());
    nlohmann::json item = {{"address", fmt::format("{:#x}", e.address)}};
    item.update(e.where);
    if (!ctx.json()) {
      ctx.out << fmt::format("{:x}\n", e.address);
      if (r.positions) ctx.out << "  " << e.position << '\n';
    }
    if (r.members) {
      auto shown = show_members(ctx.program, *r.members, e.address);
      if (!shown) {
        auto failure = shown.error().context(fmt::format("tree entry {:#x}", e.address));
        if (ctx.json()) ctx.emit({{"entries", std::move(list)}, {"error", failure.message()}});
        return failure;
      }
      if (ctx.json()) item["members"] = std::move(shown->json);
      else ctx.out << shown->text;
    }
    list.push_back(std::move(item));
  }
  if (ctx.json()) ctx.emit({{"entries", std::move(list)}});
  return {};
}

}  // namespace

Command tree_command() {
  return {"tree", "entries of a red-black tree, radix tree, XArray or maple tree",
          "  tree [-t rbtree|radix|xarray|maple] [-r OFFSET] [-o OFFSET] [-s STRUCT[.MEMBER[,MEMBER...]]]\n"
          "       [-x|-d] [-l] [-p] [-N] START\n"
          "    -t TYPE     rbtree (default, \"rb\"), radix (\"ra\"), xarray (\"x\") or maple (\"m\")\n"
          "    START       address or symbol of the rb_root, radix_tree_root, xarray or maple_tree,\n"
          "                or of a structure holding it at -r OFFSET (STRUCT.MEMBER or bytes)\n"
          "    -o OFFSET   rbtree: the rb_node's offset in each entry's structure\n"
          "    -N          rbtree: START is the top rb_node\n"
          "    -l          rbtree: in order, from the leftmost node (default: top down)\n"
          "    -p          where each entry sits: rbtree root/l/r, radix/xarray index and slots,\n"
          "                maple the index range\n"
          "    -s/-S SPEC  print STRUCT (or its listed members) at each entry\n"
          "    -x / -d     integers in hex / decimal\n"
          "  Radix trees and XArrays list their non-NULL entries (value entries included) in index\n"
          "  order; maple trees their entries with ranges. Loops and corrupt nodes are errors.\n"
          "  crash> tree -t rbtree -o vmap_area.rb_node vmap_area_root",
          run_tree};
}

}  // namespace coroner::commands
