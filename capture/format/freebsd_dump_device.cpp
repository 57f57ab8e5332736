#include "capture/format/freebsd_dump_device.hpp"

#include <algorithm>
#include <optional>

namespace coroner::freebsd {
namespace {

constexpr uint64_t kMinBlock = 512, kMaxBlock = 65536;

// The offset of the last block that starts with a header magic.
Expected<std::optional<uint64_t>> find_trailer(const ByteSource& source) {
  std::array<std::byte, kKernelDumpHeaderSize> block{};
  for (uint64_t size = kMinBlock; size <= kMaxBlock && size <= source.size(); size *= 2) {
    CORONER_CHECK(source.read_at(source.size() - size, block));
    if (looks_like_kerneldump_header(block)) return std::optional<uint64_t>(source.size() - size);
  }
  return std::optional<uint64_t>();
}

Expected<std::array<std::byte, kKernelDumpHeaderSize>> read_header_block(const ByteSource& source, uint64_t offset) {
  std::array<std::byte, kKernelDumpHeaderSize> block{};
  CORONER_CHECK(source.read_at(offset, block));
  return block;
}

}  // namespace

bool looks_like_dump_device(const ByteSource& source) {
  auto trailer = find_trailer(source);
  return trailer && trailer->has_value();
}

Expected<DeviceDump> locate_device_dump(const ByteSource& source) {
  const std::string& name = source.name();
  CORONER_TRY(found, find_trailer(source));
  if (!found) return make_error(Errc::unsupported, "{}: no kerneldumpheader in the device's last block", name);
  DeviceDump dump;
  dump.trailer_offset = *found;
  CORONER_TRY(trailer, read_header_block(source, dump.trailer_offset));
  // savecore replaces the magic alone, leaving the parity of the old one:
  // a cleared header is recognized before its parity is checked.
  if (std::string_view(reinterpret_cast<const char*>(trailer.data()), kClearedDumpMagic.size()) == kClearedDumpMagic)
    return make_error(Errc::unsupported, "{}: the dump at offset {:#x} was already saved by savecore (magic \"Cleared "
                                         "Kernel Dump\"); open savecore's vmcore.N instead",
                      name, dump.trailer_offset);
  CORONER_TRY(header, decode_kerneldump_header(trailer, fmt::format("{}: trailer at offset {:#x}", name,
                                                                    dump.trailer_offset)));
  if (header.magic == DumpMagic::cleared)
    return make_error(Errc::unsupported, "{}: the dump at offset {:#x} was already saved by savecore (magic \"Cleared "
                                         "Kernel Dump\"); open savecore's vmcore.N instead",
                      name, dump.trailer_offset);
  if (header.magic == DumpMagic::text_dump)
    return make_error(Errc::unsupported, "{}: a textdump (a tar archive of ddb output, no memory image): extract it "
                                         "with savecore and tar",
                      name);
  if (source.size() - dump.trailer_offset != header.block_size)
    return make_error(Errc::corrupt, "{}: trailer at offset {:#x} gives block size {}, but lies {} bytes from the end",
                      name, dump.trailer_offset, header.block_size, source.size() - dump.trailer_offset);
  uint64_t before = dump.trailer_offset;
  uint64_t needed = header.dump_extent + header.key_size + header.block_size;  // each term < 2^62
  if (header.dump_extent > before || needed > before)
    return make_error(Errc::truncated, "{}: dump extent of {:#x} bytes (key {} bytes) and its leader do not fit before "
                                       "the trailer at offset {:#x}",
                      name, header.dump_extent, header.key_size, before);
  dump.data_offset = before - header.dump_extent;
  dump.leader_offset = before - needed;
  CORONER_TRY(leader, read_header_block(source, dump.leader_offset));
  if (leader != trailer)
    return make_error(Errc::corrupt, "{}: leader at offset {:#x} differs from the trailer at offset {:#x} (an "
                                     "interrupted or overwritten dump)",
                      name, dump.leader_offset, dump.trailer_offset);
  if (header.key_size != 0)
    return make_error(Errc::unsupported, "{}: encrypted dump (dumpon -k, {}-byte key blob at offset {:#x}): save it "
                                         "with savecore, decrypt vmcore_encrypted.N with decryptcore(8) and the "
                                         "dump host's private RSA key, then open vmcore.N",
                      name, header.key_size, dump.leader_offset + header.block_size);
  dump.header = std::move(header);
  return dump;
}

}  // namespace coroner::freebsd
