#include "capture/format/freebsd_open.hpp"

#include "capture/format/elf_vmcore.hpp"
#include "capture/format/freebsd_dump_device.hpp"
#include "capture/format/freebsd_info_file.hpp"
#include "capture/format/freebsd_minidump.hpp"
#include "capture/format/text_file.hpp"

#include <filesystem>

namespace coroner::freebsd {
namespace {

// kerneldumpheader's MACHINE_ARCH for each minidump architecture.
std::string_view machine_arch(MinidumpArch arch) { return arch == MinidumpArch::amd64 ? "amd64" : "aarch64"; }

Expected<std::unique_ptr<Dump>> open_checked(std::shared_ptr<const ByteSource> source, const std::string& path,
                                             DumpOrigin origin) {
  std::array<std::byte, 16> head{};
  if (source->size() >= head.size()) CORONER_CHECK(source->read_at(0, head));
  if (!looks_like_minidump(head)) {
    if (looks_like_elf(head))
      return make_error(Errc::unsupported, "{}: a FreeBSD full dump (ELF, debug.minidump=0): only minidumps are "
                                           "supported",
                        path);
    return make_error(Errc::corrupt, "{}: the dump data does not start with the minidump magic", path);
  }
  CORONER_TRY(dump, Minidump::open(std::move(source), {path}, std::move(origin)));
  if (const auto& header = dump->origin().header;
      header && !header->architecture.empty() && header->architecture != machine_arch(dump->header().arch))
    return make_error(Errc::corrupt, "{}: {} says architecture \"{}\", the minidump is {}", path,
                      dump->origin().header_source, header->architecture, minidump_arch_name(dump->header().arch));
  return std::unique_ptr<Dump>(std::move(dump));
}

}  // namespace

Expected<std::unique_ptr<Dump>> open_minidump_file(std::shared_ptr<const ByteSource> source, const std::string& path,
                                                   Compression compression) {
  DumpOrigin origin;
  origin.container = compression == Compression::zstd ? "zstd-compressed"
                     : compression == Compression::gzip ? "gzip-compressed"
                     : compression == Compression::xz   ? "xz-compressed"
                                                        : "vmcore";
  if (auto info = info_file_beside(path)) {
    auto text = read_text_file(*info);
    if (!text) return make_error(Errc::io, "{}: cannot read", *info);
    CORONER_TRY(header, parse_info_file(*text, *info));
    origin.header = std::move(header);
    origin.header_source = *info;
  }
  return open_checked(std::move(source), path, std::move(origin));
}

Expected<std::unique_ptr<Dump>> open_dump_device(std::shared_ptr<const ByteSource> source, const std::string& path) {
  CORONER_TRY(found, locate_device_dump(*source));
  DumpOrigin origin;
  origin.header = found.header;
  origin.header_source = "dump device leader";
  if (found.header.compression == DumpCompression::none) {
    origin.container = "dump device";
    auto data = slice_source(std::move(source), found.data_offset, found.header.dump_length,
                             fmt::format("{} (dump at offset {:#x})", path, found.data_offset));
    return open_checked(std::move(data), path, std::move(origin));
  }
  origin.container = fmt::format("dump device, {}-compressed", compression_name(found.header.compression));
  Compression kind = found.header.compression == DumpCompression::zstd ? Compression::zstd : Compression::gzip;
  std::string stem = std::filesystem::path(path).filename().string() + ".vmcore";
  // The file the source maps: `path` itself, or its decompressed copy.
  CORONER_TRY(copy,
              decompressed_range_path(source->name(), found.data_offset, found.header.dump_length, kind, stem));
  CORONER_TRY(data, open_file_source(copy));
  return open_checked(std::move(data), path, std::move(origin));
}

}  // namespace coroner::freebsd
