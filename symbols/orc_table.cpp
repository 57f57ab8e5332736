#include "symbols/orc_table.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <numeric>

namespace coroner::symbols {
namespace {

unsigned bits(uint16_t flags, unsigned shift, unsigned width) {
  return (flags >> shift) & ((1u << width) - 1);
}

template <typename T>
T load(std::span<const std::byte> bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;  // x86_64 tables are little-endian, as is every host we build on
}

// A bitfield of struct orc_entry as a shift within the flags word (bytes 4-5).
Expected<unsigned> flags_shift(DebugInfo& debug_info, std::string_view member, unsigned expected_bits) {
  CORONER_TRY(location, debug_info.find_member("struct orc_entry", member));
  if (location.bit_offset < 32 || location.bit_offset + location.bit_size > 48 ||
      (expected_bits != 0 && location.bit_size != expected_bits))
    return make_error(Errc::unsupported, "{}: struct orc_entry.{} at bit {} ({} bits) is outside the flags word",
                      debug_info.path(), member, location.bit_offset, location.bit_size);
  return static_cast<unsigned>(location.bit_offset - 32);
}

}  // namespace

OrcFormat OrcFormat::before_6_3() { return OrcFormat{}; }

OrcFormat OrcFormat::linux_6_3() {
  OrcFormat format;
  format.signal_shift = 10;
  format.end_shift = 11;
  return format;
}

OrcFormat OrcFormat::since_6_4() {
  OrcFormat format;
  format.type_bits = 3;
  format.end_shift.reset();
  format.signal_shift = 11;
  format.explicit_end_types = true;
  return format;
}

OrcFormat OrcFormat::for_release(std::string_view osrelease) {
  // "major.minor..."; an unreadable release gets the long-lived pre-6.3 layout.
  unsigned major = 0, minor = 0;
  const char* end = osrelease.data() + osrelease.size();
  auto [after_major, error] = std::from_chars(osrelease.data(), end, major);
  if (error != std::errc() || after_major == end || *after_major != '.') return before_6_3();
  if (std::from_chars(after_major + 1, end, minor).ec != std::errc()) return before_6_3();
  if (major > 6 || (major == 6 && minor >= 4)) return since_6_4();
  if (major == 6 && minor == 3) return linux_6_3();
  return before_6_3();
}

Expected<OrcFormat> OrcFormat::from_debug_info(DebugInfo& debug_info) {
  OrcFormat format;
  CORONER_TRY(sp_reg, flags_shift(debug_info, "sp_reg", 4));
  CORONER_TRY(bp_reg, flags_shift(debug_info, "bp_reg", 4));
  CORONER_TRY(type, debug_info.find_member("struct orc_entry", "type"));
  CORONER_TRY(type_shift, flags_shift(debug_info, "type", 0));
  if (type.bit_size < 2 || type.bit_size > 3)
    return make_error(Errc::unsupported, "{}: struct orc_entry.type has {} bits", debug_info.path(), type.bit_size);
  format.sp_reg_shift = sp_reg;
  format.bp_reg_shift = bp_reg;
  format.type_shift = type_shift;
  format.type_bits = static_cast<unsigned>(type.bit_size);
  format.end_shift.reset();
  CORONER_TRY(has_end, debug_info.has_member("struct orc_entry", "end"));
  CORONER_TRY(has_signal, debug_info.has_member("struct orc_entry", "signal"));
  if (has_end) {
    CORONER_TRY(shift, flags_shift(debug_info, "end", 1));
    format.end_shift = shift;
  }
  if (has_signal) {
    CORONER_TRY(shift, flags_shift(debug_info, "signal", 1));
    format.signal_shift = shift;
  }
  // 6.4 split the `end` bit into the UNDEFINED and END_OF_STACK types.
  format.explicit_end_types = has_signal && !has_end;
  return format;
}

OrcEntry OrcFormat::decode(int16_t sp_offset, int16_t bp_offset, uint16_t flags) const {
  OrcEntry entry;
  entry.sp_offset = sp_offset;
  entry.bp_offset = bp_offset;
  entry.sp_reg = static_cast<OrcRegister>(bits(flags, sp_reg_shift, 4));
  entry.bp_reg = static_cast<OrcRegister>(bits(flags, bp_reg_shift, 4));
  entry.raw_type = static_cast<uint8_t>(bits(flags, type_shift, type_bits));
  entry.signal = signal_shift && bits(flags, *signal_shift, 1);
  entry.end = end_shift && bits(flags, *end_shift, 1);
  if (explicit_end_types) {
    static constexpr OrcType kTypes[] = {OrcType::undefined, OrcType::end_of_stack, OrcType::call, OrcType::regs,
                                         OrcType::regs_partial};
    entry.type = entry.raw_type < std::size(kTypes) ? kTypes[entry.raw_type] : OrcType::unknown;
  } else if (entry.sp_reg == OrcRegister::undefined) {
    // Section terminators ("weak" gaps) have end clear; kernels without an
    // end bit (4.14) ended every stack this way.
    entry.type = (!end_shift || entry.end) ? OrcType::end_of_stack : OrcType::undefined;
  } else {
    static constexpr OrcType kTypes[] = {OrcType::call, OrcType::regs, OrcType::regs_partial};
    entry.type = entry.raw_type < std::size(kTypes) ? kTypes[entry.raw_type] : OrcType::unknown;
  }
  // Before the signal bit, every pt_regs frame interrupted its caller.
  if (!signal_shift) entry.signal = entry.type == OrcType::regs || entry.type == OrcType::regs_partial;
  return entry;
}

OrcArrays OrcArrays::owning(std::vector<std::byte> ips, uint64_t ip_address, std::vector<std::byte> entries) {
  auto buffers = std::make_shared<std::pair<std::vector<std::byte>, std::vector<std::byte>>>(std::move(ips),
                                                                                             std::move(entries));
  return {buffers->first, ip_address, buffers->second, buffers};
}

uint64_t OrcTable::ip(size_t i) const {
  const auto relative = static_cast<int64_t>(load<int32_t>(arrays_.ips, i * kIpSize));
  return arrays_.ip_address + i * kIpSize + static_cast<uint64_t>(relative);
}

uint16_t OrcTable::flags(size_t i) const { return load<uint16_t>(arrays_.entries, i * kEntrySize + 4); }

OrcEntry OrcTable::entry(size_t i) const {
  return format_.decode(load<int16_t>(arrays_.entries, i * kEntrySize),
                        load<int16_t>(arrays_.entries, i * kEntrySize + 2), flags(i));
}

Expected<OrcTable> OrcTable::build(OrcArrays arrays, const OrcFormat& format, std::string_view where) {
  if (arrays.ips.size() % kIpSize != 0)
    return make_error(Errc::corrupt, "{}: .orc_unwind_ip is {} bytes, not a multiple of {}", where, arrays.ips.size(),
                      kIpSize);
  if (arrays.entries.size() % kEntrySize != 0)
    return make_error(Errc::corrupt, "{}: .orc_unwind is {} bytes, not a multiple of {}", where,
                      arrays.entries.size(), kEntrySize);
  const size_t count = arrays.ips.size() / kIpSize;
  if (arrays.entries.size() / kEntrySize != count)
    return make_error(Errc::corrupt, "{}: .orc_unwind_ip has {} entries but .orc_unwind has {}", where, count,
                      arrays.entries.size() / kEntrySize);
  OrcTable table;
  table.arrays_ = std::move(arrays);
  table.format_ = format;

  // The kernel's order: by ip, and among equal ips the undefined (weak
  // terminator) entries first, so that lookups prefer the real entry.
  auto weak = [&](size_t i) { return table.entry(i).type == OrcType::undefined; };
  auto before = [&](size_t a, size_t b) {
    const uint64_t ip_a = table.ip(a), ip_b = table.ip(b);
    if (ip_a != ip_b) return ip_a < ip_b;
    return weak(a) && !weak(b);
  };
  // Build-time sorted tables (every kernel since 5.6) are used as they are.
  bool sorted = true;
  for (size_t i = 1; i < count && sorted; ++i) sorted = !before(i, i - 1);
  if (sorted) return table;

  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), before);
  std::vector<std::byte> ips(count * kIpSize);
  std::vector<std::byte> entries(count * kEntrySize);
  const uint64_t base = table.arrays_.ip_address;
  for (size_t i = 0; i < count; ++i) {
    // Each ip is stored relative to its new place in the array.
    const auto relative = static_cast<int64_t>(table.ip(order[i]) - (base + i * kIpSize));
    if (relative < INT32_MIN || relative > INT32_MAX)
      return make_error(Errc::corrupt, "{}: ORC ip {:#x} is out of a 32-bit reach of its table at {:#x}", where,
                        table.ip(order[i]), base);
    const auto stored = static_cast<int32_t>(relative);
    std::memcpy(ips.data() + i * kIpSize, &stored, kIpSize);
    std::memcpy(entries.data() + i * kEntrySize, table.arrays_.entries.data() + order[i] * kEntrySize, kEntrySize);
  }
  table.arrays_ = OrcArrays::owning(std::move(ips), base, std::move(entries));
  return table;
}

std::optional<OrcEntry> OrcTable::find(uint64_t address) const {
  // The first index whose ip is above the address.
  size_t low = 0, high = size();
  while (low < high) {
    const size_t middle = low + (high - low) / 2;
    if (ip(middle) <= address)
      low = middle + 1;
    else
      high = middle;
  }
  if (low == 0) return std::nullopt;
  return entry(low - 1);
}

bool OrcTable::operator==(const OrcTable& other) const {
  if (size() != other.size() || !(format_ == other.format_)) return false;
  for (size_t i = 0; i < size(); ++i)
    if (ip(i) != other.ip(i)) return false;
  return std::ranges::equal(arrays_.entries, other.arrays_.entries);
}

}  // namespace coroner::symbols
