#include "analyzer/frontends/erase_offsets/erase_offsets.hpp"

#include "capture/format/decompressed_file.hpp"
#include "capture/format/text_file.hpp"
#include "capture/format/vmcoreinfo.hpp"

#include <fmt/format.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <iostream>
#include <optional>
#include <sstream>

namespace coroner::frontends {
namespace {

namespace fs = std::filesystem;

using symbols::QualifiedType;
using symbols::Type;
using symbols::TypeKind;

constexpr size_t kMaxDepth = 8;  // as deep as coroner-capture runs loops (capture/erase/erase_program.cpp)

// Where an expression lands: the offsets text of its REF and its type.
struct Resolved {
  std::string ref;  // "sym:ffffffff81ccac20 +65" or "elem +1400 *"
  const Type* type = nullptr;  // typedefs stripped
};

// A module's name as the kernel spells it (KBUILD_MODNAME: '-' becomes '_').
std::string module_name(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

// MODULE.ko's DWARF (loaded once), for sections and `MODULE:NAME`s.
using ModuleLoader = std::function<Expected<symbols::DebugInfo*>(const std::string& module)>;

class ConfigResolver {
 public:
  ConfigResolver(symbols::DebugInfo& debug, const std::string& path, ModuleLoader load_module)
      : debug_(debug), path_(path), load_module_(std::move(load_module)) {}

  Error error(std::string_view what) const { return make_error(Errc::invalid_argument, "{}: line {}: {}", path_, line_, what); }
  void at_line(int line) { line_ = line; }

  // SYMBOL[.member...], or ID[.member...] inside a loop over `element`.
  Expected<Resolved> resolve(std::string_view expression) {
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
      size_t dot = expression.find('.', start);
      parts.emplace_back(expression.substr(start, dot == std::string_view::npos ? dot : dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    Resolved r;
    auto loop = std::find_if(loops_.rbegin(), loops_.rend(), [&](const Loop& l) { return l.id == parts.front(); });
    if (loop != loops_.rend()) {  // the innermost loop of that name
      size_t depth = loops_.rend() - loop;
      r.ref = depth == loops_.size() ? "elem" : fmt::format("elem{}", depth);
      r.type = loop->element;
    } else {
      auto variable = scope().find_variable(parts.front());
      if (!module_.empty()) {  // its address is known only in the capture kernel
        if (!variable) return error(fmt::format("no variable '{}' in module {}", parts.front(), module_));
        r.ref = fmt::format("mod:{}:{}", module_, parts.front());
      } else {
        if (!variable || !variable->address) return error(fmt::format("no kernel variable '{}'", parts.front()));
        r.ref = fmt::format("sym:{:x}", *variable->address);
      }
      CORONER_TRY(type, strip(variable->type));
      r.type = type;
    }
    for (size_t i = 1; i < parts.size(); ++i) {
      const Type* container = r.type;
      if (container->kind() == TypeKind::pointer) {  // '.' through a pointer reads it
        r.ref += " *";
        CORONER_TRY(target, pointee(container));
        container = target;
      }
      if (container->kind() != TypeKind::structure && container->kind() != TypeKind::union_type)
        return error(fmt::format("'{}' is not a struct or union (in {})", parts[i - 1], expression));
      auto member = scope().types().member(QualifiedType{container, 0}, parts[i]);
      if (!member) return error(fmt::format("{} has no member '{}'", container->spelling(), parts[i]));
      r.ref += fmt::format(" +{}", member->bit_offset / 8);
      CORONER_TRY(type, strip(member->type));
      r.type = type;
    }
    return r;
  }

  Expected<const Type*> strip(QualifiedType type) const {
    auto stripped = symbols::underlying(type);
    if (!stripped) return error(stripped.error().message());
    return *stripped;
  }
  Expected<const Type*> pointee(const Type* pointer) const {
    auto target = pointer->target().get();
    if (!target) return error(target.error().message());
    return strip(*target);
  }
  // `struct NAME` (or a union): MODULE:NAME from MODULE.ko's DWARF, NAME
  // from the section's (a module's DWARF has only the types it uses), else
  // the vmlinux's.
  Expected<const Type*> container(const std::string& name) {
    auto find = [&](symbols::DebugInfo& in, const std::string& type) {
      auto found = in.find_type("struct " + type);
      return found ? found : in.find_type("union " + type);
    };
    if (size_t colon = name.find(':'); colon != std::string::npos) {
      CORONER_TRY(module, load_module_(name.substr(0, colon)));
      auto found = find(*module, name.substr(colon + 1));
      if (!found) return error(fmt::format("no struct {} in module {}", name.substr(colon + 1), name.substr(0, colon)));
      return strip(*found);
    }
    auto found = find(scope(), name);
    if (!found && module_debug_) found = find(debug_, name);
    if (!found) return error(fmt::format("no struct {}", name));
    return strip(*found);
  }
  // An `if ... is` name: MODULE:SYMBOL, a symbol of the section's module,
  // else of the vmlinux. A module's symbol is one it defines (it has a
  // location), not one of the kernel's it declares.
  Expected<std::string> symbol_ref(const std::string& name) {
    auto defines = [](symbols::DebugInfo& debug, const std::string& symbol) {
      auto variable = debug.find_variable(symbol);
      return variable && variable->address;
    };
    if (size_t colon = name.find(':'); colon != std::string::npos) {
      const std::string module = module_name(name.substr(0, colon)), symbol = name.substr(colon + 1);
      CORONER_TRY(debug, load_module_(module));
      if (!defines(*debug, symbol)) return error(fmt::format("if: no variable '{}' in module {}", symbol, module));
      return fmt::format("mod:{}:{}", module, symbol);
    }
    if (module_debug_ && defines(*module_debug_, name)) return fmt::format("mod:{}:{}", module_, name);
    auto variable = debug_.find_variable(name);
    if (!variable || !variable->address)
      return error(module_debug_ ? fmt::format("if: no variable '{}' in module {} or the kernel", name, module_)
                                 : fmt::format("if: no kernel variable '{}'", name));
    return fmt::format("sym:{:x}", *variable->address);
  }
  // An integer's width (a size or count from memory).
  Expected<uint64_t> integer_width(const Resolved& value, std::string_view expression) const {
    CORONER_TRY(width, size_of(value.type));
    if (value.type->kind() == TypeKind::pointer || value.type->kind() == TypeKind::array ||
        value.type->kind() == TypeKind::structure || value.type->kind() == TypeKind::union_type || width > 8)
      return error(fmt::format("'{}' is not an integer", expression));
    return width;
  }
  Expected<uint64_t> size_of(const Type* type) const {
    auto size = type->size();
    if (!size) return error(fmt::format("{} has no size", type->spelling()));
    return *size;
  }

  // One `erase` line's tokens after "erase".
  Expected<std::optional<std::string>> erase(const std::vector<std::string>& words) {
    if (words.empty()) return error("erase needs a symbol");
    CORONER_TRY(target, resolve(words[0]));
    std::string label = words[0];
    if (words.size() >= 2 && words[1] == "nullify") {
      if (words.size() != 2) return error(fmt::format("unexpected '{}'", words[2]));
      if (target.type->kind() != TypeKind::pointer) return error(fmt::format("nullify: '{}' is not a pointer", words[0]));
      return std::optional<std::string>(fmt::format("erase {} {} nullify", label, target.ref));
    }
    bool deref = target.type->kind() == TypeKind::pointer;
    std::string ref = deref ? target.ref + " *" : target.ref;
    if (words.size() >= 2) {
      if (words[1] != "size" || words.size() != 3)
        return error("expected: erase SYMBOL[.member...] [size N[K|M] | size SYMBOL[.member...] | nullify]");
      std::string_view size = words[2];
      if (!size.empty() && std::isdigit(static_cast<unsigned char>(size[0]))) {
        uint64_t scale = 1;
        if (size.back() == 'k' || size.back() == 'K') scale = 1024;
        if (size.back() == 'm' || size.back() == 'M') scale = 1024 * 1024;
        auto n = parse_uint(scale == 1 ? size : size.substr(0, size.size() - 1), 10);
        if (!n) return error(fmt::format("size: expected a number, got '{}'", size));
        return std::optional<std::string>(fmt::format("erase {} {} size {}", label, ref, *n * scale));
      }
      CORONER_TRY(from, resolve(size));
      auto width = integer_width(from, size);
      if (!width) return error(fmt::format("size symbol '{}' is not an integer", size));
      return std::optional<std::string>(fmt::format("erase {} {} size-at {} width {}", label, ref, from.ref, *width));
    }
    // No size: the size of its type, as makedumpfile finds it.
    if (target.type->kind() == TypeKind::array) {
      CORONER_TRY(size, size_of(target.type));
      return std::optional<std::string>(fmt::format("erase {} {} size {}", label, target.ref, size));
    }
    if (deref) {
      CORONER_TRY(to, pointee(target.type));
      if (to->kind() == TypeKind::void_type) {
        warnings_.push_back(fmt::format("{}: line {}: '{}' is a void pointer: give size or nullify (no effect)", path_,
                                        line_, label));
        return std::optional<std::string>();
      }
      if (to->kind() == TypeKind::base && to->size().value_or(0) == 1) return std::optional<std::string>(fmt::format("erase {} {} string", label, ref));
      CORONER_TRY(size, size_of(to));
      return std::optional<std::string>(fmt::format("erase {} {} size {}", label, ref, size));
    }
    CORONER_TRY(size, size_of(target.type));
    return std::optional<std::string>(fmt::format("erase {} {} size {}", label, target.ref, size));
  }

  // `for ID in EXPR [via MEMBER | within STRUCT:MEMBER | as STRUCT | count EXPR] [if EXPR is SYMBOL...]`.
  Expected<std::string> begin_loop(std::vector<std::string> words) {
    constexpr std::string_view kUsage =
        "expected: for ID in {ARRAY | STRUCT via MEMBER | LIST_HEAD within STRUCT:MEMBER | RB_ROOT within "
        "STRUCT:MEMBER | POINTER as [MODULE:]STRUCT | POINTER count INTEGER} [if POINTER is [MODULE:]SYMBOL...]";
    if (loops_.size() == kMaxDepth) return error(fmt::format("loops nested more than {} deep", kMaxDepth));
    std::string condition;
    if (auto at = std::find(words.begin(), words.end(), "if"); at != words.end()) {
      if (words.end() - at < 4 || at[2] != "is") return error(kUsage);
      CORONER_TRY(pointer, resolve(at[1]));
      if (pointer.type->kind() != TypeKind::pointer) return error(fmt::format("if: '{}' is not a pointer", at[1]));
      condition = fmt::format(" if {} is", pointer.ref);
      for (auto name = at + 3; name != words.end(); ++name) {
        CORONER_TRY(symbol, symbol_ref(*name));
        condition += " " + symbol;
      }
      words.erase(at, words.end());
    }
    if (words.size() < 3 || words[1] != "in") return error(kUsage);
    std::string id = words[0];
    CORONER_TRY(list, resolve(words[2]));
    std::string label = fmt::format("{}@{}", id, words[2]);
    std::string line;
    const Type* element = nullptr;
    if (words.size() == 3) {
      if (list.type->kind() != TypeKind::array || !list.type->length())
        return error(fmt::format("'{}' is not an array of known length: give via, within or as", words[2]));
      CORONER_TRY(item, pointee(list.type));  // an array's target is its element type
      if (item->kind() == TypeKind::pointer) {
        CORONER_TRY(to, pointee(item));
        element = to;
        line = fmt::format("for {} pointers {} count {}", label, list.ref, *list.type->length());
      } else {
        CORONER_TRY(stride, size_of(item));
        element = item;
        line = fmt::format("for {} array {} count {} stride {}", label, list.ref, *list.type->length(), stride);
      }
    } else if (words.size() == 5 && words[3] == "via") {
      std::string ref = list.ref;
      element = list.type;
      if (element->kind() == TypeKind::pointer) {
        ref += " *";
        CORONER_TRY(to, pointee(element));
        element = to;
      }
      auto next = scope().types().member(QualifiedType{element, 0}, words[4]);
      if (!next) return error(fmt::format("{} has no member '{}'", element->spelling(), words[4]));
      line = fmt::format("for {} via {} next {}", label, ref, next->bit_offset / 8);
    } else if (words.size() == 5 && words[3] == "within") {
      size_t colon = words[4].find(':');
      if (colon == std::string::npos) return error("within: expected STRUCT:MEMBER");
      // A list_head, or its `next` (a struct list_head *, at offset 0 of
      // it); or an rb_root (rb_root_cached starts with one).
      const Type* head = list.type;
      if (head->kind() == TypeKind::pointer) {
        CORONER_TRY(to, pointee(head));
        head = to;
      }
      bool tree = head->name() == "rb_root" || head->name() == "rb_root_cached";
      if (head->name() != "list_head" && !tree)
        return error(fmt::format("'{}' is not a struct list_head or rb_root", words[2]));
      CORONER_TRY(outer, container(words[4].substr(0, colon)));
      auto member = scope().types().member(QualifiedType{outer, 0}, words[4].substr(colon + 1));
      if (!member) return error(fmt::format("{} has no member '{}'", outer->spelling(), words[4].substr(colon + 1)));
      element = outer;
      line = fmt::format("for {} list {} member {}", label, list.ref, member->bit_offset / 8);
      if (tree) {
        CORONER_TRY(node, container("rb_node"));
        auto left = scope().types().member(QualifiedType{node, 0}, "rb_left");
        auto right = scope().types().member(QualifiedType{node, 0}, "rb_right");
        if (!left || !right) return error("struct rb_node has no rb_left or rb_right");
        line = fmt::format("for {} rbtree {} member {} left {} right {}", label, list.ref, member->bit_offset / 8,
                           left->bit_offset / 8, right->bit_offset / 8);
      }
    } else if (words.size() == 5 && words[3] == "as") {
      // A pointer: what it points to; an array (a crypto_tfm's __crt_ctx[])
      // or a union: the bytes there.
      const TypeKind kind = list.type->kind();
      if (kind != TypeKind::pointer && kind != TypeKind::array && kind != TypeKind::union_type)
        return error(fmt::format("as: '{}' is not a pointer, an array or a union", words[2]));
      CORONER_TRY(outer, container(words[4]));
      element = outer;
      line = fmt::format("for {} one {}{}", label, list.ref, kind == TypeKind::pointer ? " *" : "");
    } else if (words.size() == 5 && words[3] == "count") {
      // A pointer to the first of INTEGER elements (structs, or pointers
      // to them, of which NULLs are skipped).
      if (list.type->kind() != TypeKind::pointer) return error(fmt::format("count: '{}' is not a pointer", words[2]));
      CORONER_TRY(count, resolve(words[4]));
      CORONER_TRY(width, integer_width(count, words[4]));
      CORONER_TRY(item, pointee(list.type));
      if (item->kind() == TypeKind::pointer) {
        CORONER_TRY(to, pointee(item));
        element = to;
        line = fmt::format("for {} pointers {} * count-at {} width {}", label, list.ref, count.ref, width);
      } else {
        if (item->kind() == TypeKind::void_type) return error(fmt::format("count: '{}' is a void pointer", words[2]));
        CORONER_TRY(stride, size_of(item));
        element = item;
        line = fmt::format("for {} array {} * count-at {} width {} stride {}", label, list.ref, count.ref, width,
                           stride);
      }
    } else {
      return error(kUsage);
    }
    loops_.push_back(Loop{id, element});
    return line + condition;
  }

  Expected<void> end_loop() {
    if (loops_.empty()) return error("endfor without for");
    loops_.pop_back();
    return {};
  }
  size_t depth() const { return loops_.size(); }

  // Symbols of the section: the vmlinux's, or (`module` not empty) the
  // module's, whose DWARF is `debug`.
  void enter_section(const std::string& module, symbols::DebugInfo* debug) {
    module_ = module;
    module_debug_ = debug;
  }

  // The offsets line that lets coroner-capture find a module's symbols in
  // the dying kernel: the `modules` list, struct module's list, name and
  // kallsyms, struct mod_kallsyms' symtab, num_symtab and strtab.
  Expected<std::string> modules_line() {
    auto modules = debug_.find_variable("modules");
    if (!modules || !modules->address) return error("no kernel variable 'modules' (a kernel without modules?)");
    std::string line = fmt::format("modules sym:{:x}", *modules->address);
    for (auto [type, member, key] : {std::array<std::string_view, 3>{"module", "list", "list"},
                                     {"module", "name", "name"}, {"module", "kallsyms", "kallsyms"},
                                     {"mod_kallsyms", "symtab", "symtab"}, {"mod_kallsyms", "num_symtab", "num_symtab"},
                                     {"mod_kallsyms", "strtab", "strtab"}}) {
      auto offset = debug_.member_offset(fmt::format("struct {}", type), member);
      if (!offset) return error(fmt::format("struct {} has no member '{}' (a kernel without kallsyms?)", type, member));
      line += fmt::format(" {} {}", key, *offset);
    }
    return line;
  }
  std::vector<std::string>& warnings() { return warnings_; }

 private:
  struct Loop {
    std::string id;
    const Type* element = nullptr;
  };
  symbols::DebugInfo& debug_;
  const std::string& path_;
  ModuleLoader load_module_;
  int line_ = 0;
  symbols::DebugInfo& scope() const { return module_debug_ ? *module_debug_ : debug_; }

  std::vector<Loop> loops_;  // the loops being defined, outermost first
  std::string module_;       // the section's module; empty: vmlinux
  symbols::DebugInfo* module_debug_ = nullptr;
  std::vector<std::string> warnings_;
};

std::vector<std::string> words_of(std::string_view line) {
  std::vector<std::string> words;
  std::istringstream in{std::string(line.substr(0, line.find('#')))};
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// NAME.ko or NAME.ko.debug ('-' and '_' alike, as module names are) under
// one of `dirs`, searched to a bounded depth and number of entries.
std::optional<std::string> find_module_object(const std::string& name, const std::vector<std::string>& dirs) {
  auto normal = [](std::string text) {
    std::replace(text.begin(), text.end(), '-', '_');
    return text;
  };
  const std::string want = normal(name);
  for (const std::string& dir : dirs) {
    std::error_code ec;
    size_t seen = 0;
    for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end && ++seen < 200000; it.increment(ec)) {
      if (it.depth() > 8) it.disable_recursion_pending();
      std::string file = it->path().filename().string();
      for (std::string_view suffix : {".ko", ".ko.debug"})
        if (file.ends_with(suffix) && normal(file.substr(0, file.size() - suffix.size())) == want &&
            it->is_regular_file(ec))
          return it->path().string();
    }
  }
  return std::nullopt;
}

}  // namespace

Expected<std::string> make_erase_offsets(std::string_view config, const std::string& config_path,
                                         symbols::DebugInfo& debug, const std::vector<std::string>& module_dirs,
                                         std::ostream& warnings) {
  std::string header = "coroner-erase-offsets 1\n", out;
  header += fmt::format("# made by coroner erase-offsets from {} and {}\n", config_path, debug.path());
  if (!debug.build_id().empty()) header += fmt::format("build-id {}\n", debug.build_id());
  std::map<std::string, std::unique_ptr<symbols::DebugInfo>> modules;  // by the kernel's module name
  ConfigResolver* at = nullptr;  // for the loader's errors
  ModuleLoader load_module = [&](const std::string& name) -> Expected<symbols::DebugInfo*> {
    const std::string section = module_name(name);
    if (modules.empty()) {
      CORONER_TRY(line, at->modules_line());
      header += line + "\n";
    }
    auto& module = modules[section];
    if (!module) {
      auto path = find_module_object(section, module_dirs);
      if (!path)
        return at->error(fmt::format("[{}]: no {}.ko or {}.ko.debug with debug info in {} (give --mod-path DIR)",
                                     name, name, name, fmt::join(module_dirs, ", ")));
      auto opened = symbols::DebugInfo::open(*path, default_cache_dir());
      if (!opened) return at->error(fmt::format("[{}]: {}", name, opened.error().message()));
      module = std::move(*opened);
      header += fmt::format("# [{}] from {}\n", section, *path);
    }
    return module.get();
  };
  ConfigResolver resolver(debug, config_path, load_module);
  at = &resolver;
  int number = 0;
  for (size_t pos = 0; pos < config.size();) {
    size_t end = config.find('\n', pos);
    if (end == std::string_view::npos) end = config.size();
    std::vector<std::string> words = words_of(config.substr(pos, end - pos));
    pos = end + 1;
    resolver.at_line(++number);
    if (words.empty()) continue;
    if (words[0].starts_with("[")) {
      if (resolver.depth()) return resolver.error("a section inside a for loop");
      std::string section = words[0].substr(1, words[0].find(']') - 1);
      if (section == "vmlinux") {
        resolver.enter_section("", nullptr);
        continue;
      }
      CORONER_TRY(module, load_module(section));
      resolver.enter_section(module_name(section), module);
      continue;
    }
    std::vector<std::string> rest(words.begin() + 1, words.end());
    if (words[0] == "erase") {
      CORONER_TRY(line, resolver.erase(rest));
      if (line) out += std::string(2 * resolver.depth(), ' ') + *line + "\n";
    } else if (words[0] == "for") {
      std::string indent(2 * resolver.depth(), ' ');
      CORONER_TRY(line, resolver.begin_loop(rest));
      out += indent + line + "\n";
    } else if (words[0] == "endfor") {
      CORONER_CHECK(resolver.end_loop());
      out += std::string(2 * resolver.depth(), ' ') + "endfor\n";
    } else {
      return resolver.error(fmt::format("unknown command '{}' (erase, for, endfor)", words[0]));
    }
  }
  if (resolver.depth()) return resolver.error("for without endfor at the end of the file");
  for (const std::string& w : resolver.warnings()) warnings << "coroner: " << w << '\n';
  return header + out;
}

int run_erase_offsets(const std::vector<std::string>& args, std::ostream& out, std::ostream& errors) {
  std::string config_path, output, vmlinux;
  std::vector<std::string> module_dirs;
  auto usage = [&](const std::string& message) {
    errors << "coroner erase-offsets: " << message
           << "\nUsage: coroner erase-offsets --config FILE [-o OFFSETS] [--mod-path DIR]... VMLINUX\n";
    return 2;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--config" || a == "-o") && i + 1 < args.size()) (a == "-o" ? output : config_path) = args[++i];
    else if (a == "--mod-path" && i + 1 < args.size()) module_dirs.push_back(args[++i]);
    else if (a.starts_with("-")) return usage("unknown option '" + a + "'");
    else if (vmlinux.empty()) vmlinux = a;
    else return usage("one VMLINUX only");
  }
  if (config_path.empty() || vmlinux.empty()) return usage("--config FILE and VMLINUX are needed");
  auto fail = [&](const Error& error) {
    errors << "coroner: " << error.message() << '\n';
    return 1;
  };
  auto config = read_text_file(config_path);
  if (!config) return fail(make_error(Errc::not_found, "{}: cannot open the filter config", config_path));
  auto path = decompressed_path(vmlinux, default_cache_dir());
  if (!path) return fail(path.error());
  auto debug = symbols::DebugInfo::open(*path, default_cache_dir());
  if (!debug) return fail(debug.error());
  const std::filesystem::path vmlinux_dir = std::filesystem::path(vmlinux).parent_path();
  module_dirs.push_back(vmlinux_dir.empty() ? "." : vmlinux_dir.string());
  auto text = make_erase_offsets(*config, config_path, **debug, module_dirs, errors);
  if (!text) return fail(text.error());
  if (output.empty()) {
    out << *text;
    return 0;
  }
  std::ofstream file(output, std::ios::binary | std::ios::trunc);
  file << *text;
  if (!file.flush()) return fail(make_error(Errc::io, "{}: cannot write", output));
  return 0;
}

}  // namespace coroner::frontends
