#include "capture/erase/erase_program.hpp"

#include "capture/format/vmcoreinfo.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <unordered_set>

namespace coroner::capture {
namespace {

constexpr uint64_t kMaxString = 1024;         // makedumpfile's limit for a char * string
constexpr uint64_t kMaxLoop = uint64_t{1} << 22;  // a list longer than this is corrupt (or a cycle)
constexpr uint64_t kMaxCount = uint64_t{1} << 20;  // a count read from memory past this is corrupt
// All loops together: corrupt memory under nested loops (counts of 2^20
// within counts of 2^20) must not keep a capture kernel busy for days or
// fill its memory with ranges.
constexpr uint64_t kMaxElements = uint64_t{1} << 24;
constexpr uint64_t kMaxRanges = uint64_t{1} << 22;
constexpr unsigned kMaxDepth = 8;                 // loops nested deeper are refused
constexpr size_t kMaxTreeHeight = 128;            // an rb-tree of 2^22 nodes is at most 44 high
constexpr uint64_t kMaxModules = 1 << 16;
constexpr uint64_t kMaxModuleSymbols = 1 << 22;
constexpr size_t kModuleName = 56;                // MODULE_NAME_LEN on 64-bit

std::vector<std::string> words_of(std::string_view line) {
  std::vector<std::string> words;
  std::istringstream in{std::string(line)};
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

class LineParser {
 public:
  LineParser(std::vector<std::string> words, const std::string& path, int line)
      : words_(std::move(words)), path_(path), line_(line) {}

  Error error(std::string_view what) const {
    return make_error(Errc::corrupt, "{}: line {}: {}", path_, line_, what);
  }
  bool done() const { return next_ >= words_.size(); }
  std::string_view peek() const { return done() ? std::string_view() : std::string_view(words_[next_]); }
  Expected<std::string> word(std::string_view what) {
    if (done()) return error(fmt::format("missing {}", what));
    return words_[next_++];
  }
  Expected<uint64_t> number(std::string_view what, int base = 10) {
    CORONER_TRY(text, word(what));
    auto value = parse_uint(text, base);
    if (!value) return error(fmt::format("{}: expected a number, got '{}'", what, text));
    return *value;
  }
  Expected<void> keyword(std::string_view expected) {
    CORONER_TRY(text, word(expected));
    if (text != expected) return error(fmt::format("expected '{}', got '{}'", expected, text));
    return {};
  }
  // `KEY N`: the keyword, then the number (`what` names it in errors).
  Expected<uint64_t> keyed_number(std::string_view key, std::string_view what) {
    CORONER_CHECK(keyword(key));
    return number(what);
  }
  Expected<uint64_t> keyed_number(std::string_view key) { return keyed_number(key, key); }
  // `width W`: the bytes of an integer read from memory.
  Expected<unsigned> width() {
    CORONER_TRY(width, keyed_number("width"));
    if (width != 1 && width != 2 && width != 4 && width != 8) return error("width: expected 1, 2, 4 or 8");
    return static_cast<unsigned>(width);
  }
  // REF: `sym:HEX`, `elem` or `elemN`, then `+N` and `*` steps; `depth`
  // loops enclose it.
  Expected<EraseRef> ref(unsigned depth) {
    EraseRef ref;
    CORONER_TRY(start, word("an address"));
    if (start.starts_with("elem")) {
      if (start == "elem") {
        ref.element = depth;
      } else {
        auto n = parse_uint(std::string_view(start).substr(4), 10);
        ref.element = n && *n <= kMaxDepth ? static_cast<unsigned>(*n) : kMaxDepth + 1;
      }
      if (ref.element == 0 || ref.element > depth)
        return error(depth == 0 ? fmt::format("{} outside a for loop", start)
                                : fmt::format("{} inside {} for loops", start, depth));
    } else if (start.starts_with("mod:")) {
      size_t colon = start.find(':', 4);
      if (colon == std::string::npos || colon == 4 || colon + 1 == start.size())
        return error(fmt::format("bad module symbol '{}' (mod:MODULE:SYMBOL)", start));
      ref.module = start.substr(4, colon - 4);
      ref.symbol = start.substr(colon + 1);
    } else if (start.starts_with("sym:")) {
      auto address = parse_uint(std::string_view(start).substr(4), 16);
      if (!address) return error(fmt::format("bad address '{}'", start));
      ref.address = *address;
    } else {
      return error(fmt::format("expected sym:ADDRESS, mod:MODULE:SYMBOL, elem or elemN, got '{}'", start));
    }
    while (!done() && (peek() == "*" || peek().starts_with("+"))) {
      std::string step = words_[next_++];
      if (step == "*") {
        ref.steps.push_back(EraseRef::kDeref);
      } else {
        auto offset = parse_uint(std::string_view(step).substr(1), 10);
        if (!offset || *offset > (uint64_t{1} << 32)) return error(fmt::format("bad offset '{}'", step));
        ref.steps.push_back(static_cast<int64_t>(*offset));
      }
    }
    return ref;
  }
  int line() const { return line_; }

 private:
  std::vector<std::string> words_;
  const std::string& path_;
  int line_;
  size_t next_ = 0;
};

Expected<EraseCommand> parse_erase(LineParser& p, unsigned depth) {
  EraseCommand command;
  command.line = p.line();
  CORONER_TRY(label, p.word("a label"));
  command.label = label;
  CORONER_TRY(target, p.ref(depth));
  command.target = std::move(target);
  CORONER_TRY(kind, p.word("size, string, size-at or nullify"));
  if (kind == "size") {
    command.size_kind = EraseCommand::Size::fixed;
    CORONER_TRY(size, p.number("size"));
    command.size = size;
  } else if (kind == "string") {
    command.size_kind = EraseCommand::Size::string;
  } else if (kind == "nullify") {
    command.size_kind = EraseCommand::Size::nullify;
  } else if (kind == "size-at") {
    command.size_kind = EraseCommand::Size::from_memory;
    CORONER_TRY(size_ref, p.ref(depth));
    command.size_ref = std::move(size_ref);
    CORONER_TRY(width, p.width());
    command.width = width;
  } else {
    return p.error(fmt::format("expected size, string, size-at or nullify, got '{}'", kind));
  }
  if (!p.done()) return p.error(fmt::format("unexpected '{}'", p.peek()));
  return command;
}

// A `for` line inside `depth` loops.
Expected<EraseLoop> parse_for(LineParser& p, unsigned depth) {
  EraseLoop loop;
  loop.line = p.line();
  loop.depth = depth + 1;
  if (loop.depth > kMaxDepth) return p.error(fmt::format("loops nested more than {} deep", kMaxDepth));
  CORONER_TRY(label, p.word("a label"));
  loop.label = label;
  CORONER_TRY(kind, p.word("array, pointers, via, list, rbtree or one"));
  CORONER_TRY(start, p.ref(depth));
  loop.start = std::move(start);
  if (kind == "array" || kind == "pointers") {
    loop.kind = kind == "array" ? EraseLoop::Kind::array : EraseLoop::Kind::pointers;
    if (p.peek() == "count-at") {  // coroner's: the count from memory
      CORONER_CHECK(p.keyword("count-at"));
      CORONER_TRY(count_ref, p.ref(depth));
      loop.count_ref = std::move(count_ref);
      CORONER_TRY(width, p.width());
      loop.count_width = width;
    } else {
      CORONER_TRY(count, p.keyed_number("count"));
      loop.count = count;
    }
    if (kind == "array") {
      CORONER_TRY(stride, p.keyed_number("stride"));
      loop.stride = stride;
    }
  } else if (kind == "via" || kind == "list" || kind == "rbtree") {
    loop.kind = kind == "via" ? EraseLoop::Kind::via : kind == "list" ? EraseLoop::Kind::list : EraseLoop::Kind::rbtree;
    CORONER_TRY(offset, p.keyed_number(kind == "via" ? "next" : "member", "offset"));
    loop.offset = offset;
    if (kind == "rbtree") {
      CORONER_TRY(left, p.keyed_number("left"));
      CORONER_TRY(right, p.keyed_number("right"));
      loop.left = left;
      loop.right = right;
    }
  } else if (kind == "one") {
    loop.kind = EraseLoop::Kind::one;
  } else {
    return p.error(fmt::format("expected array, pointers, via, list, rbtree or one, got '{}'", kind));
  }
  if (!p.done() && p.peek() == "if") {
    CORONER_CHECK(p.keyword("if"));
    CORONER_TRY(condition, p.ref(depth));
    loop.condition = std::move(condition);
    CORONER_CHECK(p.keyword("is"));
    while (!p.done()) {
      if (!p.peek().starts_with("sym:") && !p.peek().starts_with("mod:"))
        return p.error(fmt::format("if: expected sym:ADDRESS or mod:MODULE:SYMBOL, got '{}'", p.peek()));
      CORONER_TRY(value, p.ref(depth));
      if (!value.steps.empty()) return p.error("if: a symbol without steps");
      loop.condition_values.push_back(std::move(value));
    }
    if (loop.condition_values.empty()) return p.error("if: missing sym:ADDRESS");
  }
  if (!p.done()) return p.error(fmt::format("unexpected '{}'", p.peek()));
  return loop;
}

class Evaluator {
 public:
  Evaluator(const KernelMemory& memory, uint64_t kaslr_offset, const std::optional<ModuleLayout>& modules)
      : memory_(memory), kaslr_(kaslr_offset), modules_(modules) {}

  // The address REF names; nullopt when a pointer on the way is NULL (or
  // its module is not loaded).
  Expected<std::optional<uint64_t>> address(const EraseRef& ref, int line) const {
    uint64_t at = ref.element ? elements_[ref.element - 1] : ref.address + kaslr_;
    if (!ref.module.empty()) {
      CORONER_TRY(symbol, module_symbol(ref.module, ref.symbol, line));
      if (!symbol) return std::optional<uint64_t>();
      at = *symbol;
    }
    for (int64_t step : ref.steps) {
      if (step == EraseRef::kDeref) {
        CORONER_TRY(value, read_pointer(at, line));
        if (value == 0) return std::optional<uint64_t>();
        at = value;
      } else {
        at += static_cast<uint64_t>(step);
      }
    }
    return std::optional<uint64_t>(at);
  }

  Expected<uint64_t> read_pointer(uint64_t vaddr, int line) const {
    auto value = memory_.read_u64(vaddr);
    if (!value) return value.error().context(fmt::format("erase offsets line {}: reading {:#x}", line, vaddr));
    return *value;
  }

  Expected<void> run(const EraseCommand& c, std::vector<EraseRange>& out) const {
    CORONER_TRY(target, address(c.target, c.line));
    if (!target) return {};
    EraseRange range{*target, 0, std::byte{'X'}, c.label};
    switch (c.size_kind) {
      case EraseCommand::Size::fixed: range.size = c.size; break;
      case EraseCommand::Size::nullify:
        range.size = 8;
        range.fill = std::byte{0};
        break;
      case EraseCommand::Size::string: {
        // makedumpfile reads 1024 bytes and erases up to the NUL (not included).
        auto text = memory_.read_string(*target, kMaxString);
        if (!text) return text.error().context(fmt::format("erase offsets line {}", c.line));
        range.size = text->size();
        break;
      }
      case EraseCommand::Size::from_memory: {
        CORONER_TRY(at, address(c.size_ref, c.line));
        if (!at) return {};
        uint64_t value = 0;
        auto read = memory_.read(*at, std::as_writable_bytes(std::span(&value, 1)).first(c.width));
        if (!read) return read.error().context(fmt::format("erase offsets line {}: the size at {:#x}", c.line, *at));
        range.size = value;
        break;
      }
    }
    if (range.size == 0) return {};
    if (out.size() == kMaxRanges)
      return make_error(Errc::corrupt, "erase offsets line {}: more than {} ranges to erase (corrupt memory?)", c.line,
                        kMaxRanges);
    out.push_back(range);
    return {};
  }

  Expected<void> run(const EraseLoop& loop, std::vector<EraseRange>& out) {
    if (loop.kind == EraseLoop::Kind::once) {
      for (const EraseCommand& c : loop.commands) CORONER_CHECK(run(c, out));
      return {};
    }
    if (loop.condition) {
      CORONER_TRY(at, address(*loop.condition, loop.line));
      if (!at) return {};
      CORONER_TRY(value, read_pointer(*at, loop.line));
      bool match = false;
      for (const EraseRef& symbol : loop.condition_values) {
        CORONER_TRY(address_of, address(symbol, loop.line));  // nullopt: its module is not loaded
        match = match || address_of == value;
      }
      if (!match) return {};
    }
    CORONER_TRY(start, address(loop.start, loop.line));
    if (!start) return {};
    CORONER_TRY(count, count_of(loop));
    // The body with `element` as this loop's.
    auto body = [&](uint64_t element) -> Expected<void> {
      if (++visited_ > kMaxElements)
        return make_error(Errc::corrupt,
                          "erase offsets line {}: the loops have visited more than {} elements in all (corrupt "
                          "memory?)", loop.line, kMaxElements);
      elements_.resize(loop.depth);
      elements_[loop.depth - 1] = element;
      for (const EraseLoop& block : loop.body) CORONER_CHECK(run(block, out));
      return {};
    };
    switch (loop.kind) {
      case EraseLoop::Kind::once: return {};
      case EraseLoop::Kind::one: return body(*start);
      case EraseLoop::Kind::array:
        for (uint64_t i = 0; i < count; ++i) CORONER_CHECK(body(*start + i * loop.stride));
        return {};
      case EraseLoop::Kind::pointers:
        for (uint64_t i = 0; i < count; ++i) {
          CORONER_TRY(element, read_pointer(*start + i * 8, loop.line));
          if (element) CORONER_CHECK(body(element));
        }
        return {};
      case EraseLoop::Kind::via:
      case EraseLoop::Kind::list: {
        bool list = loop.kind == EraseLoop::Kind::list;
        uint64_t node = *start;
        if (list) {
          CORONER_TRY(first, read_pointer(*start, loop.line));
          node = first;
        }
        for (uint64_t n = 0; node != 0 && !(list && node == *start); ++n) {
          if (n == kMaxLoop)
            return make_error(Errc::corrupt, "erase offsets line {}: the list at {:#x} has more than {} entries",
                              loop.line, *start, kMaxLoop);
          CORONER_CHECK(body(list ? node - loop.offset : node));
          CORONER_TRY(next, read_pointer(list ? node : node + loop.offset, loop.line));
          node = next;
          if (!list && node == *start) break;  // a circular list
        }
        return {};
      }
      case EraseLoop::Kind::rbtree: return walk_rbtree(loop, *start, body);
    }
    return {};
  }

 private:
  // An array's length: the file's, or (`count-at`) the integer in memory,
  // which past kMaxCount is corrupt memory. 0 when a pointer to it is NULL.
  Expected<uint64_t> count_of(const EraseLoop& loop) const {
    if (!loop.count_ref) return loop.count;
    CORONER_TRY(at, address(*loop.count_ref, loop.line));
    if (!at) return uint64_t{0};
    uint64_t value = 0;
    auto read = memory_.read(*at, std::as_writable_bytes(std::span(&value, 1)).first(loop.count_width));
    if (!read) return read.error().context(fmt::format("erase offsets line {}: the count at {:#x}", loop.line, *at));
    if (value > kMaxCount)
      return make_error(Errc::corrupt,
                        "erase offsets line {}: the count at {:#x} is {}, more than {} (corrupt memory?)", loop.line,
                        *at, value, kMaxCount);
    return value;
  }

  // In order: left subtree, node, right subtree. A node seen twice (a
  // cycle), a tree higher than any real one or with too many nodes is an
  // error naming the tree and the node.
  template <typename Body>
  Expected<void> walk_rbtree(const EraseLoop& loop, uint64_t root, Body& body) {
    CORONER_TRY(top, read_pointer(root, loop.line));  // rb_root.rb_node
    auto corrupt = [&](uint64_t node, std::string_view why) {
      return make_error(Errc::corrupt, "erase offsets line {}: the rb-tree at {:#x}: node {:#x} {}", loop.line, root,
                        node, why);
    };
    std::vector<uint64_t> path;
    std::unordered_set<uint64_t> seen;
    for (uint64_t node = top;;) {
      for (; node; ) {  // down the left edge
        if (!seen.insert(node).second) return corrupt(node, "is reached twice (a cycle)");
        if (seen.size() > kMaxLoop) return corrupt(node, fmt::format("is past {} nodes", kMaxLoop));
        if (path.size() == kMaxTreeHeight) return corrupt(node, fmt::format("is deeper than {}", kMaxTreeHeight));
        path.push_back(node);
        CORONER_TRY(left, read_pointer(node + loop.left, loop.line));
        node = left;
      }
      if (path.empty()) return {};
      uint64_t visit = path.back();
      path.pop_back();
      CORONER_CHECK(body(visit - loop.offset));
      CORONER_TRY(right, read_pointer(visit + loop.right, loop.line));
      node = right;
    }
  }

  // SYMBOL's address in MODULE's kallsyms (st_value of its Elf64_Sym);
  // nullopt when the module is not loaded. Remembered.
  Expected<std::optional<uint64_t>> module_symbol(const std::string& module, const std::string& symbol,
                                                  int line) const {
    auto [known, added] = module_symbols_.try_emplace(module + ":" + symbol);
    if (!added) return known->second;
    if (!modules_) return make_error(Errc::corrupt, "erase offsets line {}: mod:{}:{} without a modules line", line, module, symbol);
    const ModuleLayout& m = *modules_;
    const uint64_t head = m.modules + kaslr_;
    CORONER_TRY(first, read_pointer(head, line));
    uint64_t n = 0;
    for (uint64_t node = first; node != head; ++n) {
      if (n == kMaxModules || node == 0)
        return make_error(Errc::corrupt, "erase offsets line {}: the module list at {:#x} is broken at {:#x}", line,
                          head, node);
      const uint64_t mod = node - m.list;
      auto name = memory_.read_string(mod + m.name, kModuleName);
      if (!name) return name.error().context(fmt::format("erase offsets line {}: module name at {:#x}", line, mod));
      if (*name == module) {
        CORONER_TRY(found, find_in_kallsyms(mod, symbol, line));
        if (!found)
          return make_error(Errc::not_found, "erase offsets line {}: module {} (at {:#x}) has no symbol {}", line,
                            module, mod, symbol);
        known->second = *found;
        return known->second;
      }
      CORONER_TRY(next, read_pointer(node, line));
      node = next;
    }
    return known->second;  // not loaded
  }

  Expected<std::optional<uint64_t>> find_in_kallsyms(uint64_t mod, const std::string& symbol, int line) const {
    const ModuleLayout& m = *modules_;
    CORONER_TRY(kallsyms, read_pointer(mod + m.kallsyms, line));
    if (kallsyms == 0) return std::optional<uint64_t>();
    CORONER_TRY(symtab, read_pointer(kallsyms + m.symtab, line));
    CORONER_TRY(strtab, read_pointer(kallsyms + m.strtab, line));
    auto count = memory_.read_u32(kallsyms + m.num_symtab);
    if (!count) return count.error().context(fmt::format("erase offsets line {}: module kallsyms at {:#x}", line, kallsyms));
    if (*count > kMaxModuleSymbols)
      return make_error(Errc::corrupt, "erase offsets line {}: module kallsyms at {:#x}: {} symbols", line, kallsyms,
                        *count);
    for (uint64_t i = 0; i < *count; ++i) {
      const uint64_t sym = symtab + i * 24;  // Elf64_Sym: st_name at 0, st_value at 8
      auto name_offset = memory_.read_u32(sym);
      if (!name_offset) return name_offset.error().context(fmt::format("erase offsets line {}: symbol {:#x}", line, sym));
      auto name = memory_.read_string(strtab + *name_offset, symbol.size() + 1);
      if (!name || *name != symbol) continue;
      CORONER_TRY(value, read_pointer(sym + 8, line));
      return std::optional<uint64_t>(value);
    }
    return std::optional<uint64_t>();
  }

  const KernelMemory& memory_;
  uint64_t kaslr_;
  const std::optional<ModuleLayout>& modules_;
  std::vector<uint64_t> elements_;  // of the loops being run, outermost first
  uint64_t visited_ = 0;             // elements visited by all loops together
  mutable std::map<std::string, std::optional<uint64_t>> module_symbols_;  // "MODULE:SYMBOL"
};

}  // namespace

Expected<EraseProgram> parse_erase_offsets(std::string_view text, const std::string& path) {
  EraseProgram program;
  std::vector<EraseLoop*> open;  // the loops not yet ended, outermost first
  int number = 0;
  bool signed_file = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++number;
    auto words = words_of(line);
    if (words.empty() || words[0].starts_with("#")) continue;
    LineParser p(words, path, number);
    CORONER_TRY(keyword, p.word("a keyword"));
    std::vector<EraseLoop>& blocks = open.empty() ? program.blocks : open.back()->body;
    const auto depth = static_cast<unsigned>(open.size());
    if (!signed_file) {
      if (keyword != "coroner-erase-offsets")
        return make_error(Errc::unsupported,
                          "{}: not an erase offsets file (a makedumpfile.conf? coroner-capture reads no DWARF: make "
                          "one with `coroner erase-offsets --config FILE -o OFFSETS VMLINUX`)",
                          path);
      CORONER_TRY(version, p.number("version"));
      if (version != 1) return p.error(fmt::format("erase offsets version {}, only 1 is known", version));
      signed_file = true;
    } else if (keyword == "modules") {
      ModuleLayout m;
      CORONER_TRY(head, p.ref(0));
      if (!head.module.empty() || !head.steps.empty()) return p.error("modules: expected sym:ADDRESS");
      m.modules = head.address;
      for (auto [key, field] : {std::pair<std::string_view, uint64_t*>{"list", &m.list}, {"name", &m.name},
                                {"kallsyms", &m.kallsyms}, {"symtab", &m.symtab}, {"num_symtab", &m.num_symtab},
                                {"strtab", &m.strtab}}) {
        CORONER_TRY(value, p.keyed_number(key));
        *field = value;
      }
      if (!p.done()) return p.error(fmt::format("unexpected '{}'", p.peek()));
      program.modules = m;
    } else if (keyword == "build-id") {
      CORONER_TRY(id, p.word("the build-id"));
      program.build_id = id;
    } else if (keyword == "erase") {
      CORONER_TRY(command, parse_erase(p, depth));
      if (blocks.empty() || blocks.back().kind != EraseLoop::Kind::once) {
        EraseLoop once;
        once.kind = EraseLoop::Kind::once;
        once.line = command.line;
        once.depth = depth;
        blocks.push_back(std::move(once));
      }
      blocks.back().commands.push_back(std::move(command));
    } else if (keyword == "for") {
      CORONER_TRY(loop, parse_for(p, depth));
      blocks.push_back(std::move(loop));
      open.push_back(&blocks.back());
    } else if (keyword == "endfor") {
      if (open.empty()) return p.error("endfor without for");
      open.pop_back();
    } else {
      return p.error(fmt::format("unknown keyword '{}'", keyword));
    }
  }
  if (!signed_file) return make_error(Errc::corrupt, "{}: empty erase offsets file", path);
  if (!open.empty()) return make_error(Errc::corrupt, "{}: line {}: for without endfor", path, open.back()->line);
  return program;
}

Expected<std::vector<EraseRange>> evaluate_erase_program(const EraseProgram& program, const KernelMemory& memory,
                                                         uint64_t kaslr_offset) {
  Evaluator evaluator(memory, kaslr_offset, program.modules);
  std::vector<EraseRange> out;
  for (const EraseLoop& block : program.blocks) CORONER_CHECK(evaluator.run(block, out));
  return out;
}

std::string erase_info_text(const std::vector<EraseRange>& ranges) {
  std::string text;
  for (const EraseRange& r : ranges)
    text += r.fill == std::byte{0} ? fmt::format("erase {} nullify\n", r.label)
                                   : fmt::format("erase {} size {}\n", r.label, r.size);
  return text;
}

}  // namespace coroner::capture
