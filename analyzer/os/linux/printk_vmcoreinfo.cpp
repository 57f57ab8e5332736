#include "analyzer/os/linux/printk_vmcoreinfo.hpp"

#include <string>
#include <vector>

namespace coroner::linux_kernel {

namespace {

// One VMCOREINFO key and where the DWARF has it. `required` keys are those
// every kernel of the variant exports; the others (CONFIG_PRINTK_CALLER's
// caller_id of the legacy buffer, dict_len of the 5.10 merge window) are
// filled only when the DWARF is opened for a required one anyway.
struct Key {
  enum Kind { symbol, size, offset, length } kind;
  std::string type;    // struct name (SIZE, OFFSET, LENGTH's struct)
  std::string member;  // member (OFFSET), array member (LENGTH)
  std::string name;    // the key's own name: symbol (SYMBOL), array name (LENGTH)
  bool required = true;

  std::string text() const {
    switch (kind) {
      case symbol: return fmt::format("SYMBOL({})", name);
      case size: return fmt::format("SIZE({})", type);
      case offset: return fmt::format("OFFSET({}.{})", type, member);
      case length: return fmt::format("LENGTH({})", name);
    }
    return {};
  }
};

Key symbol_key(std::string name) { return {Key::symbol, "", "", std::move(name)}; }
Key size_key(std::string type) { return {Key::size, std::move(type), "", ""}; }
Key offset_key(std::string type, std::string member, bool required = true) {
  return {Key::offset, std::move(type), std::move(member), "", required};
}

// The keys of the lockless ring (Linux 5.10+), as kernel/printk/printk.c
// exports them.
std::vector<Key> lockless_keys() {
  std::vector<Key> keys = {symbol_key("prb"), size_key("prb_desc"), size_key("printk_info")};
  const std::pair<const char*, std::vector<const char*>> members[] = {
      {"printk_ringbuffer", {"desc_ring", "text_data_ring"}},
      {"prb_desc_ring", {"count_bits", "descs", "infos", "head_id", "tail_id"}},
      {"prb_desc", {"state_var", "text_blk_lpos"}},
      {"prb_data_blk_lpos", {"begin", "next"}},
      {"printk_info", {"seq", "ts_nsec", "text_len", "caller_id", "dev_info"}},
      {"dev_printk_info", {"subsystem", "device"}},
      {"prb_data_ring", {"size_bits", "data"}},
      {"atomic_long_t", {"counter"}},
  };
  for (const auto& [type, names] : members)
    for (const char* member : names) keys.push_back(offset_key(type, member));
  keys.push_back(offset_key("printk_info", "dict_len", false));
  keys.push_back({Key::length, "dev_printk_info", "subsystem", "printk_info_subsystem"});
  keys.push_back({Key::length, "dev_printk_info", "device", "printk_info_device"});
  return keys;
}

// The keys of the legacy log_buf (3.5 to 5.9); `type` is printk_log, or log
// before 3.11.
std::vector<Key> legacy_keys(const std::string& type) {
  std::vector<Key> keys = {symbol_key("log_buf"), symbol_key("log_buf_len"), symbol_key("log_first_idx"),
                           symbol_key("log_next_idx"), size_key(type)};
  for (const char* member : {"ts_nsec", "len", "text_len", "dict_len"}) keys.push_back(offset_key(type, member));
  keys.push_back(offset_key(type, "caller_id", false));
  return keys;
}

Expected<uint64_t> value_from_debug_info(const Program& program, const Key& key) {
  switch (key.kind) {
    case Key::symbol: return program.kernel_symbol_address(key.name);
    case Key::size: return program.type_size("struct " + key.type);
    case Key::offset: {
      // atomic_long_t is a typedef, the others are struct tags.
      std::string type = key.type.ends_with("_t") ? key.type : "struct " + key.type;
      return program.member_offset(type, key.member);
    }
    case Key::length: {
      CORONER_TRY(debug, program.debug_info());
      CORONER_TRY(member, debug->find_member("struct " + key.type, key.member));
      CORONER_TRY(array, symbols::underlying(member.type));
      if (!array->length()) return make_error(Errc::not_found, "{}.{} is not an array", key.type, key.member);
      return *array->length();
    }
  }
  return make_error(Errc::not_found, "unknown key");
}

// struct printk_log was struct log before 3.11.
std::string legacy_type(const Program& program, const VmcoreInfo& base) {
  if (base.size("printk_log")) return "printk_log";
  if (base.size("log")) return "log";
  return program.type_size("struct printk_log") ? "printk_log" : "log";
}

}  // namespace

VmcoreInfo with_printk_keys(const Program& program, const VmcoreInfo& base) {
  std::vector<Key> keys;
  if (base.symbol("prb")) keys = lockless_keys();
  else if (base.symbol("log_buf")) keys = legacy_keys(legacy_type(program, base));
  else if (program.kernel_symbol_address("prb")) keys = lockless_keys();
  else if (program.kernel_symbol_address("log_buf")) keys = legacy_keys(legacy_type(program, base));
  else return base;

  bool complete = true;
  for (const Key& key : keys)
    if (key.required && !base.get(key.text())) complete = false;
  if (complete) return base;

  std::string text;
  for (const auto& [key, value] : base.entries()) text += fmt::format("{}={}\n", key, value);
  for (const Key& key : keys) {
    if (base.get(key.text())) continue;
    auto value = value_from_debug_info(program, key);
    if (!value) continue;  // the reader names what is still missing
    text += key.kind == Key::symbol ? fmt::format("{}={:x}\n", key.text(), *value)
                                    : fmt::format("{}={}\n", key.text(), *value);
  }
  return VmcoreInfo::parse(text);
}

VmcoreInfo printk_vmcoreinfo(const Program& program) { return with_printk_keys(program, program.vmcoreinfo()); }

}  // namespace coroner::linux_kernel
