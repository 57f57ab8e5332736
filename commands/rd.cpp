// rd: display memory, as crash's rd [-8|-16|-32|-64] [-p|-u|-k]
// [-x|-d|-D|-a|-s] ADDRESS|SYMBOL [COUNT].
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/memory_reader.hpp"

#include <cstring>
#include <ostream>
#include <vector>

namespace coroner::commands {

namespace {

enum class Style { hex, signed_decimal, unsigned_decimal, ascii, symbolic };

struct RdRequest {
  AddressSpace space = AddressSpace::kernel;
  Style style = Style::hex;
  unsigned width = 8;  // bytes per value
  uint64_t address = 0;
  uint64_t count = 1;
};

Expected<RdRequest> parse(const CommandContext& ctx, const Arguments& args) {
  RdRequest r;
  std::vector<std::string_view> positional;
  bool count_given = false;
  for (const std::string& a : args) {
    if (a == "-8") r.width = 1;
    else if (a == "-16") r.width = 2;
    else if (a == "-32") r.width = 4;
    else if (a == "-64") r.width = 8;
    else if (a == "-p") r.space = AddressSpace::physical;
    else if (a == "-u") r.space = AddressSpace::user;
    else if (a == "-k") r.space = AddressSpace::kernel;
    else if (a == "-x") r.style = Style::hex;
    else if (a == "-d") r.style = Style::signed_decimal;
    else if (a == "-D") r.style = Style::unsigned_decimal;
    else if (a == "-a") r.style = Style::ascii;
    else if (a == "-s") r.style = Style::symbolic, r.width = 8;
    else if (a.size() > 1 && a[0] == '-' && !std::isdigit(static_cast<unsigned char>(a[1])))
      return make_error(Errc::invalid_argument, "unknown option {}", a);
    else positional.push_back(a);
  }
  if (positional.empty()) return make_error(Errc::invalid_argument, "missing address (usage: rd [options] ADDRESS [COUNT])");
  if (positional.size() > 2) return make_error(Errc::invalid_argument, "too many arguments: {}", positional[2]);
  if (r.space == AddressSpace::kernel) {
    CORONER_TRY(address, parse_address(ctx.program, positional[0]));
    r.address = address;
  } else {
    CORONER_TRY(address, parse_number(positional[0], 16));
    r.address = address;
  }
  if (positional.size() == 2) {
    CORONER_TRY(count, parse_number(positional[1], 10));
    if (count == 0 || count > (1u << 24)) return make_error(Errc::invalid_argument, "count {} out of range", count);
    r.count = count;
    count_given = true;
  }
  if (r.style == Style::ascii && !count_given) r.count = 256;  // up to a NUL, like crash
  if (r.style == Style::ascii) r.width = 1;
  return r;
}

uint64_t load(const std::byte* p, unsigned width) {
  uint64_t v = 0;
  std::memcpy(&v, p, width);
  return v;
}

// As crash's rd -s: a value inside the kernel image [_text, _end) or a
// module's memory shows as symbol+offset (decimal offset, no module name);
// anything else (direct map, vmalloc, user, small numbers) in hex.
std::optional<std::string> symbolic_name(const Program& program, uint64_t v) {
  if (v == 0 || program.arch().is_user_address(v)) return std::nullopt;
  auto where = program.describe_address(v);
  if (!where) return std::nullopt;
  if (where->module.empty()) {
    auto text = program.symbol_address("_text");
    auto end = program.symbol_address("_end");
    if (!text || !end || v < *text || v >= *end) return std::nullopt;
  }
  return where->offset ? fmt::format("{}+{}", where->symbol->name, where->offset) : where->symbol->name;
}

std::string format_value(const Program& program, uint64_t v, unsigned width, Style style) {
  switch (style) {
    case Style::signed_decimal: {
      int64_t s = width == 8 ? static_cast<int64_t>(v) : (static_cast<int64_t>(v << (64 - 8 * width)) >> (64 - 8 * width));
      return fmt::format("{:>{}}", s, width * 3 + 1);
    }
    case Style::unsigned_decimal: return fmt::format("{:>{}}", v, width * 3);
    case Style::symbolic:
      if (auto name = symbolic_name(program, v)) return fmt::format("{:<16}", *name);
      [[fallthrough]];
    default: return fmt::format("{:0{}x}", v, width * 2);
  }
}

std::string ascii_of(std::span<const std::byte> bytes) {
  std::string s;
  for (std::byte b : bytes) {
    char c = static_cast<char>(b);
    s.push_back(c >= 0x20 && c < 0x7f ? c : '.');
  }
  return s;
}

Expected<void> run_rd(CommandContext& ctx, const Arguments& args) {
  CORONER_TRY(req, parse(ctx, args));
  CORONER_TRY(reader, MemoryReader::make(ctx, req.space));
  const unsigned per_line = req.width == 8 ? 2 : req.width == 4 ? 4 : req.width == 2 ? 8 : 16;
  const uint64_t total = req.count * req.width;

  if (req.style == Style::ascii) {
    std::vector<std::byte> buf(total);
    CORONER_CHECK(reader.read(req.address, buf));
    std::string text;
    for (std::byte b : buf) {
      if (b == std::byte{0}) break;
      text.push_back(static_cast<char>(b));
    }
    if (ctx.json()) ctx.emit({{"address", fmt::format("{:#x}", req.address)}, {"string", text}});
    else ctx.out << fmt::format("{:016x}:  {}\n", req.address, text);
    return {};
  }

  // Line by line, so that what can be read is shown before an unreadable page.
  std::vector<std::byte> bytes;
  std::optional<Error> failure;
  for (uint64_t done = 0; done < total;) {
    uint64_t chunk = std::min<uint64_t>(total - done, uint64_t{per_line} * req.width);
    std::vector<std::byte> line(chunk);
    auto got = reader.read(req.address + done, line);
    if (!got) {
      failure = got.error();
      break;
    }
    if (!ctx.json()) {
      std::string text = fmt::format("{:016x}:  ", req.address + done);
      for (uint64_t i = 0; i < chunk; i += req.width)
        text += format_value(ctx.program, load(&line[i], req.width), req.width, req.style) + " ";
      if (req.style == Style::hex) {
        text.append((per_line - chunk / req.width) * (req.width * 2 + 1), ' ');
        text += "  " + ascii_of(line);
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      ctx.out << text << '\n';
    }
    bytes.insert(bytes.end(), line.begin(), line.end());
    done += chunk;
  }
  if (ctx.json()) {
    nlohmann::json values = nlohmann::json::array();
    for (size_t i = 0; i + req.width <= bytes.size(); i += req.width) values.push_back(load(&bytes[i], req.width));
    nlohmann::json doc = {{"address", fmt::format("{:#x}", req.address)},
                          {"space", address_space_name(req.space)},
                          {"width", req.width},
                          {"count", bytes.size() / req.width},
                          {"bytes", fmt::format("{:02x}", fmt::join(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                                    reinterpret_cast<const uint8_t*>(bytes.data()) + bytes.size(), ""))},
                          {"values", values}};
    if (failure) doc["error"] = failure->message();
    ctx.emit(doc);
    if (failure) return *failure;
    return {};
  }
  if (failure) return *failure;
  return {};
}

}  // namespace

Command rd_command() {
  return {"rd", "read memory: kernel virtual (default), user virtual (-u) or physical (-p)",
          "  rd [-8|-16|-32|-64] [-p|-u|-k] [-x|-d|-D|-a|-s] ADDRESS|SYMBOL [COUNT]\n"
          "    -8 -16 -32 -64  value width in bits (default 64)\n"
          "    -p  physical address   -u  user address of the task context (set PID)\n"
          "    -k  kernel virtual address (default)\n"
          "    -x  hex (default)  -d  signed decimal  -D  unsigned decimal\n"
          "    -a  ASCII string up to a NUL\n"
          "    -s  64-bit values: symbol+offset when inside the kernel image or a module, else hex\n"
          "  crash> rd -s init_task 8\n"
          "  crash> rd -32 -d jiffies 2",
          run_rd};
}

}  // namespace coroner::commands
