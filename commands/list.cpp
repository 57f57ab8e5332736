// list: walk a linked list, as crash's
//   list [[-o] OFFSET|STRUCT.MEMBER] [-e END] [-s|-S STRUCT[.MEMBER,...] [-l OFFSET]]
//        [-x|-d] [-r] [-h [-O HEAD_OFFSET]|-H] START
// printing the address of each entry's structure, and with -s its members.
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/interrupt.hpp"
#include "commands/member_selection.hpp"

#include <ostream>
#include <unordered_set>

namespace coroner::commands {

namespace {

constexpr size_t kMaxEntries = size_t{1} << 22;

enum class Mode { pointers, embedded, head };  // START is: the first entry, a struct with -h, a list_head with -H

struct ListRequest {
  Mode mode = Mode::pointers;
  uint64_t offset = 0;  // of the link (next pointer or list_head) in each structure
  std::optional<uint64_t> head_offset;  // -O
  std::optional<uint64_t> link_offset;  // -l
  std::optional<uint64_t> end;          // -e
  std::optional<MemberSelection> members;
  bool reverse = false;
  uint64_t start = 0;
};

Expected<ListRequest> parse(const Program& program, const Arguments& args) {
  ListRequest r;
  std::vector<std::string_view> positional;
  std::optional<std::string_view> selection, offset_text;
  IntegerBase base = IntegerBase::natural;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> Expected<std::string_view> {
      if (i + 1 >= args.size()) return make_error(Errc::invalid_argument, "option {} needs a value", a);
      return std::string_view(args[++i]);
    };
    if (a == "-o") {
      CORONER_TRY(v, value());
      offset_text = v;
    } else if (a == "-s" || a == "-S") {
      CORONER_TRY(v, value());
      selection = v;
    } else if (a == "-l" || a == "-O" || a == "-e") {
      CORONER_TRY(v, value());
      if (a == "-e") {
        CORONER_TRY(end, parse_start_address(program, v));
        r.end = end;
      } else {
        CORONER_TRY(offset, parse_member_offset(program, v));
        (a == "-l" ? r.link_offset : r.head_offset) = offset;
      }
    } else if (a == "-h") r.mode = Mode::embedded;
    else if (a == "-H") r.mode = Mode::head;
    else if (a == "-r") r.reverse = true;
    else if (a == "-x") base = IntegerBase::hex;
    else if (a == "-d") base = IntegerBase::decimal;
    else if (a.size() > 1 && a[0] == '-') return make_error(Errc::invalid_argument, "unknown option {}", a);
    else positional.push_back(a);
  }
  // "STRUCT.MEMBER START", "START STRUCT.MEMBER" or "OFFSET START".
  if (positional.size() == 2 && !offset_text) {
    size_t k = 0;
    for (size_t j = 0; j < 2; ++j) {
      size_t dot = positional[j].find('.');
      if (dot != std::string_view::npos && find_named_type(program, positional[j].substr(0, dot))) k = j;
    }
    offset_text = positional[k];
    positional.erase(positional.begin() + static_cast<std::ptrdiff_t>(k));
  }
  if (positional.empty()) return make_error(Errc::invalid_argument, "missing start address (usage: list [options] START)");
  if (positional.size() > 1) return make_error(Errc::invalid_argument, "too many arguments: {}", positional[1]);
  if (offset_text) {
    CORONER_TRY(offset, parse_member_offset(program, *offset_text));
    r.offset = offset;
  }
  if (r.head_offset && r.mode != Mode::embedded) return make_error(Errc::invalid_argument, "-O needs -h");
  if (r.link_offset && !selection) return make_error(Errc::invalid_argument, "-l needs -s");
  if (r.reverse && r.mode == Mode::pointers)
    return make_error(Errc::invalid_argument, "-r needs a list_head list (-h or -H)");
  CORONER_TRY(tail, parse_selection_and_start(program, selection, base, positional[0]));
  r.members = std::move(tail.members);
  r.start = tail.start;
  return r;
}

// The addresses of the list's entries, in order; `failure` says why the
// walk stopped early (a read, a loop, a NULL link).
struct Walk {
  std::vector<uint64_t> entries;
  std::optional<Error> failure;
};

Walk walk(const Program& program, const ListRequest& r, uint64_t link_member) {
  const KernelMemory& memory = program.memory();
  Walk w;
  std::unordered_set<uint64_t> seen;
  auto fail = [&](Error e) { w.failure = std::move(e); };

  if (r.mode == Mode::pointers) {
    // Singly linked: each structure's pointer at `offset` is the next one;
    // ends at NULL, at START, at the entry START points to, or at itself.
    uint64_t entry = r.start, first_next = 0;
    while (entry != 0 && entry != r.end) {
      if (auto go_on = check_interrupt(); !go_on) return fail(go_on.error()), w;
      if (!seen.insert(entry).second) return fail(make_error(Errc::corrupt, "list loops at entry {:#x}", entry)), w;
      if (w.entries.size() >= kMaxEntries)
        return fail(make_error(Errc::corrupt, "list has more than {} entries", kMaxEntries)), w;
      w.entries.push_back(entry);
      auto next = memory.read_u64(entry + r.offset);
      if (!next) return fail(next.error().context(fmt::format("next pointer of list entry {:#x}", entry))), w;
      if (w.entries.size() == 1) first_next = *next;
      else if (*next == first_next) break;
      if (*next == r.start || *next == entry) break;
      entry = *next;
    }
    return w;
  }

  // list_head lists: the head is a standalone list_head (-H), the one in
  // START's structure (-h), or at -O in it; entries are list_heads at
  // `offset` inside their structures.
  uint64_t head = r.start;
  if (r.mode == Mode::embedded) {
    head = r.start + r.head_offset.value_or(r.offset);
    if (!r.head_offset) w.entries.push_back(r.start);
  }
  seen.insert(head);
  uint64_t link = head;
  for (;;) {
    if (auto go_on = check_interrupt(); !go_on) return fail(go_on.error()), w;
    auto next = memory.read_u64(link + link_member);
    if (!next)
      return fail(next.error().context(fmt::format("{} pointer of list_head {:#x}", r.reverse ? "prev" : "next", link))), w;
    if (*next == head) break;
    if (*next == 0)
      return fail(make_error(Errc::corrupt, "list_head {:#x} has a NULL {} pointer", link, r.reverse ? "prev" : "next")), w;
    if (r.end && *next - r.offset == *r.end) break;
    if (!seen.insert(*next).second)
      return fail(make_error(Errc::corrupt, "list loops: list_head {:#x} is reached twice (after {:#x})", *next, link)), w;
    if (w.entries.size() >= kMaxEntries)
      return fail(make_error(Errc::corrupt, "list has more than {} entries", kMaxEntries)), w;
    w.entries.push_back(*next - r.offset);
    link = *next;
  }
  return w;
}

Expected<void> run_list(CommandContext& ctx, const Arguments& args) {
  const Program& program = ctx.program;
  CORONER_TRY(r, parse(program, args));
  uint64_t link_member = 0;
  if (r.mode != Mode::pointers) {
    CORONER_TRY(member, program.member_offset("struct list_head", r.reverse ? "prev" : "next"));
    link_member = member;
  }
  Walk w = walk(program, r, link_member);

  nlohmann::json entries = nlohmann::json::array();
  for (uint64_t entry : w.entries) {
    CORONER_CHECK(check_interrupt());
    nlohmann::json item = {{"address", fmt::format("{:#x}", entry)}};
    if (!ctx.json()) ctx.out << fmt::format("{:x}\n", entry);
    if (r.members) {
      // With -l, entries are linkage addresses and the structure lies before.
      auto shown = show_members(program, *r.members, entry - r.link_offset.value_or(0));
      if (!shown) {
        w.failure = shown.error().context(fmt::format("list entry {:#x}", entry));
        if (ctx.json()) entries.push_back(std::move(item));
        break;
      }
      if (ctx.json()) item["members"] = std::move(shown->json);
      else ctx.out << shown->text;
    }
    if (ctx.json()) entries.push_back(std::move(item));
  }
  if (ctx.json()) {
    nlohmann::json doc = {{"entries", std::move(entries)}};
    if (w.failure) doc["error"] = w.failure->message();
    ctx.emit(doc);
  }
  if (w.failure) return *w.failure;
  return {};
}

}  // namespace

Command list_command() {
  return {"list", "walk a linked list: entry addresses, with -s their members",
          "  list [[-o] OFFSET|STRUCT.MEMBER] [-e END] [-s STRUCT[.MEMBER[,MEMBER...]] [-l OFFSET]] [-x|-d]\n"
          "       [-r] [-h [-O HEAD_OFFSET]|-H] START\n"
          "    START          address, symbol[+offset] or expression (init_task.tasks); by default the\n"
          "                   first structure of a list linked by the pointer at OFFSET (ends at NULL or\n"
          "                   when it comes back)\n"
          "    -H START       START is a standalone list_head (the head, not an entry); entries embed\n"
          "                   their list_head at OFFSET (STRUCT.MEMBER names it)\n"
          "    -h START       START is a structure with its list_head at OFFSET; it is the first entry\n"
          "    -O OFFSET      with -h: the head's list_head is at this offset in START (not an entry)\n"
          "    -r             follow prev pointers (list_head lists)\n"
          "    -e END         stop at this entry\n"
          "    -s/-S SPEC     print STRUCT (or its listed members) for each entry\n"
          "    -l OFFSET      with -s: entries are linkage addresses OFFSET into the structure\n"
          "    -x / -d        integers in hex / decimal\n"
          "  A loop, a NULL link or an unreadable entry ends the walk with an error naming it.\n"
          "  crash> list task_struct.tasks -s task_struct.pid,comm -h init_task\n"
          "  crash> list -H modules module.list -s module.name",
          run_list};
}

}  // namespace coroner::commands
