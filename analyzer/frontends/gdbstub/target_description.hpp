// The register sets the stub describes to gdb (qXfer:features:read of
// target.xml) and the order of `g` packets: i386:x86-64 (core, SSE, the
// Linux orig_rax and the segment bases, as gdb's own amd64 descriptions
// name them) and aarch64 (core and the pointer-authentication masks, so gdb
// strips PAC bits from return addresses). Registers a dump does not hold
// (FPU, vectors) are described but reported unavailable.
#pragma once

#include "capture/format/dump.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::gdbstub {

struct RemoteRegister {
  std::string name;
  unsigned bits = 64;
  std::string type;       // gdb's type name
  std::string feature;    // "org.gnu.gdb.i386.core", ...
  // The register's name in the analyzer's register set (Arch::register_names),
  // "" for one the dump never holds.
  std::string source;
  // A value fixed by the description itself (the PAC masks).
  std::optional<uint64_t> constant;
};

struct TargetDescription {
  std::string architecture;  // "i386:x86-64", "aarch64"
  std::vector<RemoteRegister> registers;  // in `g` packet order = gdb remote register numbers
  std::string xml;                        // target.xml
};

// The description of `machine`; va_bits places arm64's PAC field (bits
// va_bits..54 of a pointer).
TargetDescription describe_target(Machine machine, unsigned va_bits);

}  // namespace coroner::gdbstub
