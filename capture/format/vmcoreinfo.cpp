#include "capture/format/vmcoreinfo.hpp"

#include <charconv>

namespace coroner {

std::optional<uint64_t> parse_uint(std::string_view text, int base) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r')) text.remove_suffix(1);
  if (base == 0 || base == 16) {
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
      text.remove_prefix(2);
      base = 16;
    } else if (base == 0) {
      base = 10;
    }
  }
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<int64_t> parse_int(std::string_view text, int base) {
  bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  auto magnitude = parse_uint(text, base);
  if (!magnitude) return std::nullopt;
  // Positive values keep all 64 bits (NUMBER(kimage_voffset)=0xffff...);
  // negative ones must fit, and are negated in unsigned arithmetic so that
  // INT64_MIN does not overflow.
  constexpr uint64_t kMinMagnitude = uint64_t{1} << 63;
  if (negative && *magnitude > kMinMagnitude) return std::nullopt;
  return static_cast<int64_t>(negative ? uint64_t{0} - *magnitude : *magnitude);
}

VmcoreInfo VmcoreInfo::parse(std::string_view text) {
  VmcoreInfo info;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    if (line.find('\0') != std::string_view::npos) continue;
    info.entries_.emplace(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
  }
  return info;
}

std::optional<std::string_view> VmcoreInfo::get(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return std::string_view(it->second);
}

namespace {
std::string wrap(std::string_view kind, std::string_view name) {
  return fmt::format("{}({})", kind, name);
}
}  // namespace

std::optional<uint64_t> VmcoreInfo::symbol(std::string_view name) const {
  auto v = get(wrap("SYMBOL", name));
  return v ? parse_uint(*v, 16) : std::nullopt;
}
std::optional<int64_t> VmcoreInfo::number(std::string_view name) const {
  auto v = get(wrap("NUMBER", name));
  return v ? parse_int(*v, 0) : std::nullopt;
}
std::optional<uint64_t> VmcoreInfo::offset(std::string_view type_member) const {
  auto v = get(wrap("OFFSET", type_member));
  return v ? parse_uint(*v, 10) : std::nullopt;
}
std::optional<uint64_t> VmcoreInfo::size(std::string_view type) const {
  auto v = get(wrap("SIZE", type));
  return v ? parse_uint(*v, 10) : std::nullopt;
}
std::optional<uint64_t> VmcoreInfo::length(std::string_view name) const {
  auto v = get(wrap("LENGTH", name));
  return v ? parse_uint(*v, 10) : std::nullopt;
}
std::optional<uint64_t> VmcoreInfo::kernel_offset() const {
  auto v = get("KERNELOFFSET");
  return v ? parse_uint(*v, 16) : std::nullopt;
}
std::optional<uint64_t> VmcoreInfo::page_size() const {
  auto v = get("PAGESIZE");
  return v ? parse_uint(*v, 10) : std::nullopt;
}
std::optional<int64_t> VmcoreInfo::crash_time() const {
  auto v = get("CRASHTIME");
  return v ? parse_int(*v, 10) : std::nullopt;
}
std::string VmcoreInfo::osrelease() const { return std::string(get("OSRELEASE").value_or("")); }
std::string VmcoreInfo::build_id() const { return std::string(get("BUILD-ID").value_or("")); }

namespace {
template <typename T>
Expected<T> required(std::optional<T> value, std::string_view kind, std::string_view name) {
  if (value) return *value;
  return make_error(Errc::not_found, "VMCOREINFO has no {}({})", kind, name);
}
}  // namespace

Expected<uint64_t> VmcoreInfo::require_symbol(std::string_view name) const {
  return required(symbol(name), "SYMBOL", name);
}
Expected<int64_t> VmcoreInfo::require_number(std::string_view name) const {
  return required(number(name), "NUMBER", name);
}
Expected<uint64_t> VmcoreInfo::require_offset(std::string_view type_member) const {
  return required(offset(type_member), "OFFSET", type_member);
}
Expected<uint64_t> VmcoreInfo::require_size(std::string_view type) const {
  return required(size(type), "SIZE", type);
}

}  // namespace coroner
