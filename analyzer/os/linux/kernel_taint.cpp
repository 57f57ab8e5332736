#include "analyzer/os/linux/kernel_taint.hpp"

#include "analyzer/object.hpp"

#include <array>
#include <string_view>

namespace coroner::linux_kernel {

namespace {

// The TAINT_* bits, fixed by the ABI of /proc/sys/kernel/tainted
// (Documentation/admin-guide/tainted-kernels.rst).
constexpr std::array<std::string_view, 20> kTaintNames = {
    "TAINT_PROPRIETARY_MODULE", "TAINT_FORCED_MODULE", "TAINT_CPU_OUT_OF_SPEC", "TAINT_FORCED_RMMOD",
    "TAINT_MACHINE_CHECK", "TAINT_BAD_PAGE", "TAINT_USER", "TAINT_DIE", "TAINT_OVERRIDDEN_ACPI_TABLE", "TAINT_WARN",
    "TAINT_CRAP", "TAINT_FIRMWARE_WORKAROUND", "TAINT_OOT_MODULE", "TAINT_UNSIGNED_MODULE", "TAINT_SOFTLOCKUP",
    "TAINT_LIVEPATCH", "TAINT_AUX", "TAINT_RANDSTRUCT", "TAINT_TEST", "TAINT_FWCTL"};

constexpr unsigned kMaskBits = 64;  // tainted_mask is an unsigned long

// A letter member under either of its names.
Expected<char> letter(const Object& entry, std::string_view name, std::string_view old_name) {
  auto member = entry.member(name);
  if (!member) member = entry.member(old_name);
  if (!member) return member.error();
  CORONER_TRY(value, member->read_unsigned());
  return static_cast<char>(value);
}

}  // namespace

Expected<KernelTaint> read_kernel_taint(const Program& program) {
  KernelTaint taint;
  CORONER_TRY(mask_object, global_object(program, "tainted_mask"));
  CORONER_TRY(mask, mask_object.read_unsigned());
  taint.mask = mask;
  for (unsigned bit = 0; bit < kMaskBits; ++bit)
    if ((mask >> bit) & 1)
      taint.set.push_back({bit, '?', bit < kTaintNames.size() ? std::string(kTaintNames[bit]) : std::string()});

  // taint_flags[] is indexed by bit; tnts[] entries name theirs.
  bool indexed = true;
  auto table = global_object(program, "taint_flags");
  if (!table) {
    indexed = false;
    table = global_object(program, "tnts");
  }
  if (!table) return table.error().context("taint flags");
  CORONER_TRY(array, table->underlying_type());
  if (array->kind() != symbols::TypeKind::array || !array->length())
    return make_error(Errc::corrupt, "taint flags: {} is not an array of known length", indexed ? "taint_flags" : "tnts");
  for (uint64_t i = 0; i < *array->length() && i < kMaskBits; ++i) {
    CORONER_TRY(entry, table->index(static_cast<int64_t>(i)));
    uint64_t bit = i;
    if (!indexed) {
      CORONER_TRY(bit_member, entry.member("bit"));
      CORONER_TRY(value, bit_member.read_unsigned());
      bit = value;
    }
    CORONER_TRY(on, letter(entry, "c_true", "true"));
    CORONER_TRY(off, letter(entry, "c_false", "false"));
    bool is_set = bit < kMaskBits && ((mask >> bit) & 1);
    if (is_set) {
      taint.letters += on;
      for (TaintFlag& flag : taint.set)
        if (flag.bit == bit) flag.letter = on;
    } else if (off != ' ' && off != '-' && off != 'G') {
      taint.letters += off;
    }
  }
  return taint;
}

}  // namespace coroner::linux_kernel
