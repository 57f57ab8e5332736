// VMCOREINFO: the KEY=VALUE text the kernel leaves for dump tools, parsed
// into typed values. Keys keep their kernel spelling: "SYMBOL(swapper_pg_dir)",
// "NUMBER(phys_base)", "OFFSET(page.flags)", "KERNELOFFSET", "BUILD-ID".
#pragma once

#include "capture/format/error.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace coroner {

class VmcoreInfo {
 public:
  VmcoreInfo() = default;
  // Never fails: lines that are not KEY=VALUE are skipped (the kernel's own
  // text is the only authority, and truncated notes still carry a prefix).
  static VmcoreInfo parse(std::string_view text);

  bool empty() const { return entries_.empty(); }
  const std::map<std::string, std::string, std::less<>>& entries() const { return entries_; }
  std::optional<std::string_view> get(std::string_view key) const;

  // SYMBOL(name) and KERNELOFFSET are hex without 0x; NUMBER may be
  // decimal, negative or 0x-prefixed hex; OFFSET/SIZE/LENGTH are decimal.
  std::optional<uint64_t> symbol(std::string_view name) const;
  std::optional<int64_t> number(std::string_view name) const;
  std::optional<uint64_t> offset(std::string_view type_member) const;  // "page.flags"
  std::optional<uint64_t> size(std::string_view type) const;
  std::optional<uint64_t> length(std::string_view name) const;

  std::optional<uint64_t> kernel_offset() const;  // KERNELOFFSET
  std::optional<uint64_t> page_size() const;      // PAGESIZE
  std::optional<int64_t> crash_time() const;      // CRASHTIME (seconds since epoch)
  std::string osrelease() const;                  // "" if absent
  std::string build_id() const;                   // lower-case hex, "" if absent

  // The same lookups, failing with a message naming the missing key.
  Expected<uint64_t> require_symbol(std::string_view name) const;
  Expected<int64_t> require_number(std::string_view name) const;
  Expected<uint64_t> require_offset(std::string_view type_member) const;
  Expected<uint64_t> require_size(std::string_view type) const;

 private:
  std::map<std::string, std::string, std::less<>> entries_;
};

// Parses an unsigned or signed integer in the given base ("0x" prefix
// switches to hex when base is 0). nullopt unless the whole text is a number.
std::optional<uint64_t> parse_uint(std::string_view text, int base);
std::optional<int64_t> parse_int(std::string_view text, int base);

}  // namespace coroner
