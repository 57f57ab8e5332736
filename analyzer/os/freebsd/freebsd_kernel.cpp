#include "analyzer/os/freebsd/freebsd_kernel.hpp"

#include "analyzer/arch/freebsd_minidump_paging.hpp"

namespace coroner::freebsd_kernel {
namespace {

// Without a kerneldumpheader, what the kernel file lets the dumped memory
// say: the kernel's `version` string and the panic message `panicstr`
// points to (kern_shutdown.c sets it to the formatted message). False
// without a kernel file or a readable `version`.
bool read_kernel_strings(const Program& program, SystemInfo& info) {
  if (program.vmlinux_path().empty()) return false;
  auto version = program.symbol_address("version");
  auto text = version ? program.memory().read_string(*version, 1024) : Expected<std::string>(version.error());
  if (!text || text->empty()) return false;
  info.version_string = *text;
  if (std::string_view rest(info.version_string); rest.starts_with("FreeBSD "))
    info.release = std::string(rest.substr(8, rest.substr(8).find_first_of(" \n")));
  if (auto panicstr = program.symbol_address("panicstr"))
    if (auto message = program.memory().read_u64(*panicstr); message && *message)
      if (auto panic = program.memory().read_string(*message, 256)) info.panic_string = *panic;
  return true;
}

}  // namespace

Expected<std::unique_ptr<OsModel>> open_freebsd_kernel(const Program& program) {
  const auto* dump = dynamic_cast<const freebsd::Minidump*>(&program.dump());
  if (!dump)
    return make_error(Errc::unsupported, "{}: not a FreeBSD minidump ({})", program.dump().files().front(),
                      program.dump().description());
  return std::unique_ptr<OsModel>(std::make_unique<FreeBsdKernel>(program, *dump));
}

Expected<const FreeBsdKernel*> kernel_model(const Program& program) {
  // The one downcast from the program's OS model to FreeBSD's.
  if (const auto* model = dynamic_cast<const FreeBsdKernel*>(&program.os())) return model;
  return make_error(Errc::unsupported, "the program was opened with the {} OS model, not FreeBSD's",
                    program.os().name());
}

SystemInfo read_system_info(const FreeBsdKernel& kernel) {
  const freebsd::Minidump& dump = kernel.minidump();
  const freebsd::MinidumpHeader& h = dump.header();
  SystemInfo info;
  info.page_size = h.page_size();
  info.dumped_bytes = dump.dumped_pages() * h.page_size();
  if (h.has_dump_avail()) {
    uint64_t total = 0;
    for (const freebsd::DumpAvailRange& range : dump.dump_avail()) total += range.end - range.start;
    info.memory_bytes = total;
  } else {
    info.problems.push_back(fmt::format("memory: a version {} minidump records no dump_avail, only the pages it holds",
                                        h.version));
  }
  info.machine_arch = h.arch == freebsd::MinidumpArch::amd64 ? "amd64" : "aarch64";
  const auto& origin = dump.origin();
  if (!origin.header) {
    if (read_kernel_strings(kernel.program(), info)) {
      info.problems.push_back("host and time: the dump has no kerneldumpheader (no info.N beside it); version and "
                              "panic are the kernel's `version` and `panicstr`");
      return info;
    }
    info.problems.push_back("host, version, panic and time: the dump has no kerneldumpheader (no info.N beside it)");
    return info;
  }
  const freebsd::KernelDumpHeader& header = *origin.header;
  info.header_source = origin.header_source;
  info.hostname = header.hostname;
  info.version_string = header.version_string;
  info.panic_string = header.panic_string;
  if (!header.architecture.empty()) info.machine_arch = header.architecture;
  if (header.dump_time != 0) info.dump_time = header.dump_time;
  if (auto names = dump.utsname()) info.release = names->release;
  return info;
}

Expected<freebsd::MessageBuffer> read_message_buffer(const FreeBsdKernel& kernel) {
  const freebsd::Minidump& dump = kernel.minidump();
  CORONER_TRY(section, dump.message_buffer_section());
  return freebsd::decode_message_buffer(section, dump.header().msgbuf_size, dump.files().front());
}

Expected<std::vector<KernelRange>> kernel_ranges(const FreeBsdKernel& kernel) {
  const freebsd::Minidump& dump = kernel.minidump();
  const freebsd::MinidumpHeader& h = dump.header();
  std::vector<KernelRange> ranges;
  for (const PhysRange& range : dump.ranges()) {
    // The part of the range the direct map covers.
    uint64_t start = std::max(range.start, h.dmap_phys), end = range.end();
    if (start >= end || h.dmap_end <= h.dmap_base) continue;
    end = std::min(end, h.dmap_phys + (h.dmap_end - h.dmap_base));
    if (start < end) ranges.push_back({h.dmap_base + (start - h.dmap_phys), h.dmap_base + (end - h.dmap_phys), start});
  }
  const uint64_t span = arch::minidump_entry_span(h);
  for (uint64_t i = 0; i < dump.page_table_entries(); ++i) {
    CORONER_TRY(entry, dump.page_table_entry(i));
    if (!arch::minidump_entry_valid(h, entry)) continue;
    uint64_t start = h.kernbase + i * span;
    if (start < h.kernbase) break;  // past the top of the address space
    if (!ranges.empty() && !ranges.back().phys && ranges.back().end == start) ranges.back().end += span;
    else ranges.push_back({start, start + span, std::nullopt});
  }
  return ranges;
}

}  // namespace coroner::freebsd_kernel
