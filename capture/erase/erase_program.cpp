#include "capture/erase/erase_program.hpp"

#include "capture/format/vmcoreinfo.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace coroner::capture {
namespace {

constexpr uint64_t kMaxString = 1024;         // makedumpfile's limit for a char * string
constexpr uint64_t kMaxLoop = uint64_t{1} << 22;  // a list longer than this is corrupt (or a cycle)

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
  // REF: `sym:HEX` or `elem`, then `+N` and `*` steps.
  Expected<EraseRef> ref() {
    EraseRef ref;
    CORONER_TRY(start, word("an address"));
    if (start == "elem") {
      ref.from_element = true;
    } else if (start.starts_with("sym:")) {
      auto address = parse_uint(std::string_view(start).substr(4), 16);
      if (!address) return error(fmt::format("bad address '{}'", start));
      ref.address = *address;
    } else {
      return error(fmt::format("expected sym:ADDRESS or elem, got '{}'", start));
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

Expected<EraseCommand> parse_erase(LineParser& p) {
  EraseCommand command;
  command.line = p.line();
  CORONER_TRY(label, p.word("a label"));
  command.label = label;
  CORONER_TRY(target, p.ref());
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
    CORONER_TRY(size_ref, p.ref());
    command.size_ref = std::move(size_ref);
    CORONER_CHECK(p.keyword("width"));
    CORONER_TRY(width, p.number("width"));
    if (width != 1 && width != 2 && width != 4 && width != 8) return p.error("width: expected 1, 2, 4 or 8");
    command.width = static_cast<unsigned>(width);
  } else {
    return p.error(fmt::format("expected size, string, size-at or nullify, got '{}'", kind));
  }
  if (!p.done()) return p.error(fmt::format("unexpected '{}'", p.peek()));
  return command;
}

Expected<EraseLoop> parse_for(LineParser& p) {
  EraseLoop loop;
  loop.line = p.line();
  CORONER_TRY(label, p.word("a label"));
  loop.label = label;
  CORONER_TRY(kind, p.word("array, pointers, via or list"));
  CORONER_TRY(start, p.ref());
  loop.start = std::move(start);
  if (kind == "array") {
    loop.kind = EraseLoop::Kind::array;
    CORONER_CHECK(p.keyword("count"));
    CORONER_TRY(count, p.number("count"));
    CORONER_CHECK(p.keyword("stride"));
    CORONER_TRY(stride, p.number("stride"));
    loop.count = count;
    loop.stride = stride;
  } else if (kind == "pointers") {
    loop.kind = EraseLoop::Kind::pointers;
    CORONER_CHECK(p.keyword("count"));
    CORONER_TRY(count, p.number("count"));
    loop.count = count;
  } else if (kind == "via" || kind == "list") {
    loop.kind = kind == "via" ? EraseLoop::Kind::via : EraseLoop::Kind::list;
    CORONER_CHECK(p.keyword(kind == "via" ? "next" : "member"));
    CORONER_TRY(offset, p.number("offset"));
    loop.offset = offset;
  } else {
    return p.error(fmt::format("expected array, pointers, via or list, got '{}'", kind));
  }
  if (loop.start.from_element) return p.error("a loop cannot start at elem: loops do not nest");
  if (!p.done()) return p.error(fmt::format("unexpected '{}'", p.peek()));
  return loop;
}

class Evaluator {
 public:
  Evaluator(const KernelMemory& memory, uint64_t kaslr_offset) : memory_(memory), kaslr_(kaslr_offset) {}

  // The address REF names; nullopt when a pointer on the way is NULL.
  Expected<std::optional<uint64_t>> address(const EraseRef& ref, uint64_t element, int line) const {
    uint64_t at = ref.from_element ? element : ref.address + kaslr_;
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

  Expected<void> run(const EraseCommand& c, uint64_t element, std::vector<EraseRange>& out) const {
    CORONER_TRY(target, address(c.target, element, c.line));
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
        CORONER_TRY(at, address(c.size_ref, element, c.line));
        if (!at) return {};
        uint64_t value = 0;
        auto read = memory_.read(*at, std::as_writable_bytes(std::span(&value, 1)).first(c.width));
        if (!read) return read.error().context(fmt::format("erase offsets line {}: the size at {:#x}", c.line, *at));
        range.size = value;
        break;
      }
    }
    if (range.size > 0) out.push_back(range);
    return {};
  }

  Expected<void> run(const EraseLoop& loop, std::vector<EraseRange>& out) const {
    auto body = [&](uint64_t element) -> Expected<void> {
      for (const EraseCommand& c : loop.body) CORONER_CHECK(run(c, element, out));
      return {};
    };
    if (loop.kind == EraseLoop::Kind::once) return body(0);
    CORONER_TRY(start, address(loop.start, 0, loop.line));
    if (!start) return {};
    switch (loop.kind) {
      case EraseLoop::Kind::once: return {};
      case EraseLoop::Kind::array:
        for (uint64_t i = 0; i < loop.count; ++i) CORONER_CHECK(body(*start + i * loop.stride));
        return {};
      case EraseLoop::Kind::pointers:
        for (uint64_t i = 0; i < loop.count; ++i) {
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
    }
    return {};
  }

 private:
  const KernelMemory& memory_;
  uint64_t kaslr_;
};

}  // namespace

Expected<EraseProgram> parse_erase_offsets(std::string_view text, const std::string& path) {
  EraseProgram program;
  EraseLoop* open_loop = nullptr;
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
    if (!signed_file) {
      if (keyword != "coroner-erase-offsets")
        return make_error(Errc::unsupported,
                          "{}: not an erase offsets file (a makedumpfile.conf? coroner-capture reads no DWARF: make "
                          "one with `coroner erase-offsets --config FILE -o OFFSETS VMLINUX`)",
                          path);
      CORONER_TRY(version, p.number("version"));
      if (version != 1) return p.error(fmt::format("erase offsets version {}, only 1 is known", version));
      signed_file = true;
    } else if (keyword == "build-id") {
      CORONER_TRY(id, p.word("the build-id"));
      program.build_id = id;
    } else if (keyword == "erase") {
      CORONER_TRY(command, parse_erase(p));
      if (command.target.from_element && !open_loop) return p.error("elem outside a for loop");
      if (open_loop) {
        open_loop->body.push_back(std::move(command));
      } else {
        EraseLoop once;
        once.kind = EraseLoop::Kind::once;
        once.line = command.line;
        once.body.push_back(std::move(command));
        program.blocks.push_back(std::move(once));
      }
    } else if (keyword == "for") {
      if (open_loop) return p.error("for inside a for loop");
      CORONER_TRY(loop, parse_for(p));
      program.blocks.push_back(std::move(loop));
      open_loop = &program.blocks.back();
    } else if (keyword == "endfor") {
      if (!open_loop) return p.error("endfor without for");
      open_loop = nullptr;
    } else {
      return p.error(fmt::format("unknown keyword '{}'", keyword));
    }
  }
  if (!signed_file) return make_error(Errc::corrupt, "{}: empty erase offsets file", path);
  if (open_loop) return make_error(Errc::corrupt, "{}: line {}: for without endfor", path, open_loop->line);
  return program;
}

Expected<std::vector<EraseRange>> evaluate_erase_program(const EraseProgram& program, const KernelMemory& memory,
                                                         uint64_t kaslr_offset) {
  Evaluator evaluator(memory, kaslr_offset);
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
