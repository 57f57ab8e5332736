#include "analyzer/frontends/gdbstub/target_description.hpp"

#include <fmt/format.h>

namespace coroner::gdbstub {

namespace {

void add(TargetDescription& d, std::string_view feature, std::string_view name, unsigned bits,
         std::string_view type, bool from_dump = true) {
  d.registers.push_back({std::string(name), bits, std::string(type), std::string(feature),
                         from_dump ? std::string(name) : std::string(), std::nullopt});
}

TargetDescription x86_64() {
  TargetDescription d;
  d.architecture = "i386:x86-64";
  constexpr std::string_view core = "org.gnu.gdb.i386.core";
  for (std::string_view name : {"rax", "rbx", "rcx", "rdx", "rsi", "rdi"}) add(d, core, name, 64, "int64");
  add(d, core, "rbp", 64, "data_ptr");
  add(d, core, "rsp", 64, "data_ptr");
  for (int i = 8; i <= 15; ++i) add(d, core, fmt::format("r{}", i), 64, "int64");
  add(d, core, "rip", 64, "code_ptr");
  add(d, core, "eflags", 32, "int32");
  for (std::string_view name : {"cs", "ss", "ds", "es", "fs", "gs"}) add(d, core, name, 32, "int32");
  for (int i = 0; i < 8; ++i) add(d, core, fmt::format("st{}", i), 80, "i387_ext", false);
  for (std::string_view name : {"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"})
    add(d, core, name, 32, "int", false);
  constexpr std::string_view sse = "org.gnu.gdb.i386.sse";
  for (int i = 0; i < 16; ++i) add(d, sse, fmt::format("xmm{}", i), 128, "uint128", false);
  add(d, sse, "mxcsr", 32, "int", false);
  add(d, "org.gnu.gdb.i386.linux", "orig_rax", 64, "int");
  add(d, "org.gnu.gdb.i386.segments", "fs_base", 64, "int");
  add(d, "org.gnu.gdb.i386.segments", "gs_base", 64, "int");
  return d;
}

TargetDescription aarch64(unsigned va_bits) {
  TargetDescription d;
  d.architecture = "aarch64";
  constexpr std::string_view core = "org.gnu.gdb.aarch64.core";
  for (int i = 0; i <= 30; ++i) add(d, core, fmt::format("x{}", i), 64, "int");
  add(d, core, "sp", 64, "data_ptr");
  add(d, core, "pc", 64, "code_ptr");
  add(d, core, "cpsr", 32, "int");
  d.registers.back().source = "pstate";
  // The FPU registers, never in a kernel dump's notes, are described all
  // the same: gdb 13 numbers its pseudo registers as if they were there,
  // and without them takes the PAC state for the 128-bit q0.
  constexpr std::string_view fpu = "org.gnu.gdb.aarch64.fpu";
  for (int i = 0; i < 32; ++i) add(d, fpu, fmt::format("v{}", i), 128, "uint128", false);
  add(d, fpu, "fpsr", 32, "int", false);
  add(d, fpu, "fpcr", 32, "int", false);
  // The PAC field of a pointer: bits va_bits..54 (55 selects the half; the
  // top byte is the tag). Kernel and user pointers alike on the kernels
  // coroner reads; gdb 13 takes the *_high pair for kernel addresses.
  uint64_t pac_mask = va_bits > 0 && va_bits < 55 ? ((uint64_t(1) << 55) - 1) & ~((uint64_t(1) << va_bits) - 1) : 0;
  for (std::string_view name : {"pauth_dmask", "pauth_cmask", "pauth_dmask_high", "pauth_cmask_high"}) {
    add(d, "org.gnu.gdb.aarch64.pauth", name, 64, "int", false);
    d.registers.back().constant = pac_mask;
  }
  return d;
}

std::string description_xml(const TargetDescription& d) {
  std::string xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n";
  xml += fmt::format("  <architecture>{}</architecture>\n", d.architecture);
  // No OS ABI: gdb's GNU/Linux one would look for user-space shared
  // libraries (svr4) instead of the stub's library list of modules.
  xml += "  <osabi>none</osabi>\n";
  std::string_view open_feature;
  for (size_t i = 0; i < d.registers.size(); ++i) {
    const RemoteRegister& r = d.registers[i];
    if (r.feature != open_feature) {
      if (!open_feature.empty()) xml += "  </feature>\n";
      xml += fmt::format("  <feature name=\"{}\">\n", r.feature);
      open_feature = r.feature;
    }
    xml += fmt::format("    <reg name=\"{}\" bitsize=\"{}\" type=\"{}\" regnum=\"{}\"/>\n", r.name, r.bits, r.type, i);
  }
  if (!open_feature.empty()) xml += "  </feature>\n";
  xml += "</target>\n";
  return xml;
}

}  // namespace

TargetDescription describe_target(Machine machine, unsigned va_bits) {
  TargetDescription d = machine == Machine::aarch64 ? aarch64(va_bits) : x86_64();
  d.xml = description_xml(d);
  return d;
}

}  // namespace coroner::gdbstub
