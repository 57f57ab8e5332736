#include "capture/savecore/savecore.hpp"

#include "capture/format/byte_source.hpp"
#include "capture/format/decompressed_file.hpp"
#include "capture/format/elf_vmcore.hpp"
#include "capture/format/freebsd_dump_device.hpp"
#include "capture/format/freebsd_info_file.hpp"
#include "capture/format/freebsd_minidump_header.hpp"
#include "capture/format/vmcoreinfo.hpp"
#include "capture/savecore/saved_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>

namespace coroner::capture {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunk = size_t{1} << 20;

// The N to save as: the bounds file's, moved past any file already there.
Expected<uint64_t> next_number(const std::string& dir) {
  uint64_t n = 0;
  fs::path bounds = fs::path(dir) / "bounds";
  std::error_code ec;
  if (fs::exists(bounds, ec)) {
    std::ifstream in(bounds);
    std::string text;
    std::getline(in, text);
    auto value = parse_uint(text, 10);
    if (!value) return make_error(Errc::corrupt, "{}: \"{}\" is not a number", bounds.string(), text);
    n = *value;
  }
  auto taken = [&](uint64_t k) {
    for (const std::string& name : {fmt::format("info.{}", k), fmt::format("vmcore.{}", k),
                                    fmt::format("vmcore.{}.zst", k), fmt::format("vmcore.{}.gz", k)})
      if (fs::exists(fs::path(dir) / name, ec)) return true;
    return false;
  };
  while (taken(n)) ++n;
  return n;
}

Expected<void> write_text(const std::string& dir, const std::string& name, const std::string& text) {
  CORONER_TRY(file, SavedFile::create(dir, name, false));
  CORONER_CHECK(file.write(std::as_bytes(std::span(text.data(), text.size()))));
  return file.commit();
}

// What the kernel's dump data must start with: a minidump, a full dump
// (ELF), or the stream its compression names.
Expected<void> check_payload(const ByteSource& source, const freebsd::DeviceDump& dump) {
  std::array<std::byte, 8> head{};
  if (dump.header.dump_length < head.size())
    return make_error(Errc::corrupt, "{}: dump of {} bytes is too short", source.name(), dump.header.dump_length);
  CORONER_CHECK(source.read_at(dump.data_offset, head));
  const Compression found = detect_compression(head);
  bool ok = dump.header.compression == freebsd::DumpCompression::zstd   ? found == Compression::zstd
            : dump.header.compression == freebsd::DumpCompression::gzip ? found == Compression::gzip
                                                                        : freebsd::looks_like_minidump(head) ||
                                                                              looks_like_elf(head);
  if (!ok)
    return make_error(Errc::corrupt, "{}: the dump data at offset {:#x} is not a {} (header compression: {})",
                      source.name(), dump.data_offset,
                      dump.header.compression == freebsd::DumpCompression::none ? "minidump or full dump"
                                                                                 : "compressed stream",
                      freebsd::compression_name(dump.header.compression));
  return {};
}

// Marks the device's dump as saved as savecore does: the trailer's magic
// becomes "Cleared Kernel Dump", the rest of the block (parity included)
// stays as the kernel wrote it.
Expected<void> clear_trailer(const std::string& device, const freebsd::DeviceDump& dump) {
  std::array<char, 20> magic{};
  std::copy(freebsd::kClearedDumpMagic.begin(), freebsd::kClearedDumpMagic.end(), magic.begin());
  int fd = ::open(device.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return make_error(Errc::io, "{}: cannot open to clear the dump: {}", device, std::strerror(errno));
  ssize_t done = ::pwrite(fd, magic.data(), magic.size(), static_cast<off_t>(dump.trailer_offset));
  int err = errno;
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (done != static_cast<ssize_t>(magic.size()) || !synced)
    return make_error(Errc::io, "{}: cannot clear the trailer at offset {:#x}: {}", device, dump.trailer_offset,
                      std::strerror(done < 0 ? err : EIO));
  return {};
}

// Writes info.N for `header`, then names vmcore.N and info.N -- both whole
// before either gets its name -- and last sets bounds to N+1.
Expected<SavedDump> finish(const SavecoreOptions& o, uint64_t n, SavedFile& vmcore,
                           const freebsd::KernelDumpHeader& header) {
  CORONER_TRY(info, SavedFile::create(o.directory, fmt::format("info.{}", n), false));
  std::string text = freebsd::format_info_file(header, o.input, n, "good");
  CORONER_CHECK(info.write(std::as_bytes(std::span(text.data(), text.size()))));
  CORONER_CHECK(vmcore.commit());
  if (auto named = info.commit(); !named) {
    ::unlink(vmcore.path().c_str());
    return named.error();
  }
  CORONER_CHECK(write_text(o.directory, "bounds", fmt::format("{}\n", n + 1)));
  return SavedDump{n, vmcore.path(), info.path()};
}

Expected<SavedDump> save_device(const SavecoreOptions& o) {
  CORONER_TRY(source, open_file_source(o.input));
  if (!freebsd::looks_like_dump_device(*source))
    return make_error(Errc::not_found, "{}: no kernel dump (no kerneldumpheader in the last block)", o.input);
  CORONER_TRY(dump, freebsd::locate_device_dump(*source));
  CORONER_CHECK(check_payload(*source, dump));
  CORONER_TRY(n, next_number(o.directory));
  const freebsd::DumpCompression kind = dump.header.compression;
  // A stream the kernel compressed is kept as it is (-z does not apply).
  bool compress = o.zstd && kind == freebsd::DumpCompression::none;
  std::string name = kind == freebsd::DumpCompression::zstd   ? fmt::format("vmcore.{}.zst", n)
                     : kind == freebsd::DumpCompression::gzip ? fmt::format("vmcore.{}.gz", n)
                     : compress                               ? fmt::format("vmcore.{}.zst", n)
                                                              : fmt::format("vmcore.{}", n);
  CORONER_TRY(vmcore, SavedFile::create(o.directory, name, compress));
  std::vector<std::byte> buffer(kChunk);
  for (uint64_t done = 0; done < dump.header.dump_length;) {
    size_t part = static_cast<size_t>(std::min<uint64_t>(kChunk, dump.header.dump_length - done));
    std::span<std::byte> chunk(buffer.data(), part);
    CORONER_CHECK(source->read_at(dump.data_offset + done, chunk));
    CORONER_CHECK(vmcore.write(chunk));
    done += part;
  }
  CORONER_TRY(saved, finish(o, n, vmcore, dump.header));
  if (!o.keep) CORONER_CHECK(clear_trailer(o.input, dump));
  return saved;
}

// Reads exactly out.size() bytes of the stream; `at` counts what was read.
Expected<void> read_exact(int fd, std::span<std::byte> out, uint64_t& at, uint64_t total, const std::string& name) {
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(Errc::io, "{}: read failed at byte {}: {}", name, at + got, std::strerror(errno));
    if (n == 0)
      return make_error(Errc::truncated, "{}: the stream ended at byte {} of the {} its minidump header announces: "
                                         "nothing saved",
                        name, at + got, total);
    got += static_cast<size_t>(n);
  }
  at += got;
  return {};
}

// A rescue kernel's /dev/dumper: the host's minidump as one stream, no
// kerneldumpheader. Its length follows from the header and the bitmap.
Expected<SavedDump> save_dumper_stream(const SavecoreOptions& o) {
  int fd = ::open(o.input.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(Errc::io, "{}: cannot open: {}", o.input, std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  uint64_t at = 0, total = 0;
  std::vector<std::byte> head(4096);  // the smallest header page
  CORONER_CHECK(read_exact(fd, head, at, head.size(), o.input));
  CORONER_TRY(header, freebsd::decode_minidump_header(head, o.input));
  const uint64_t page = header.page_size();
  head.resize(page);
  CORONER_CHECK(read_exact(fd, std::span(head).subspan(4096), at, page, o.input));
  CORONER_TRY(layout, freebsd::minidump_layout(header, UINT64_MAX, o.input));
  CORONER_TRY(n, next_number(o.directory));
  std::string name = o.zstd ? fmt::format("vmcore.{}.zst", n) : fmt::format("vmcore.{}", n);
  CORONER_TRY(vmcore, SavedFile::create(o.directory, name, o.zstd));
  CORONER_CHECK(vmcore.write(head));
  // Up to the pages: copied, the bitmap counted on the way.
  uint64_t pages = 0;
  std::vector<std::byte> buffer(kChunk);
  while (at < layout.pages) {
    std::span<std::byte> chunk(buffer.data(), static_cast<size_t>(std::min<uint64_t>(kChunk, layout.pages - at)));
    uint64_t from = at;
    CORONER_CHECK(read_exact(fd, chunk, at, layout.pages, o.input));
    for (uint64_t i = std::max(from, layout.bitmap); i < std::min(at, layout.bitmap + header.bitmap_size); ++i)
      pages += std::popcount(static_cast<uint8_t>(chunk[i - from]));
    CORONER_CHECK(vmcore.write(chunk));
  }
  total = layout.pages + pages * page;
  while (at < total) {
    std::span<std::byte> chunk(buffer.data(), static_cast<size_t>(std::min<uint64_t>(kChunk, total - at)));
    CORONER_CHECK(read_exact(fd, chunk, at, total, o.input));
    CORONER_CHECK(vmcore.write(chunk));
  }
  freebsd::KernelDumpHeader info_header;
  bool amd64 = header.arch == freebsd::MinidumpArch::amd64;
  info_header.architecture = amd64 ? "amd64" : "aarch64";
  info_header.architecture_version = amd64 ? 2 : 1;
  info_header.dump_length = total;
  info_header.dump_time = static_cast<uint64_t>(std::time(nullptr));  // read now: the stream carries no time
  return finish(o, n, vmcore, info_header);
}

}  // namespace

Expected<SavecoreOptions> parse_savecore_options(const std::vector<std::string>& args) {
  SavecoreOptions o;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-k") o.keep = true;
    else if (a == "-z") o.zstd = true;
    else if (a == "-h" || a == "--help") o.help = true;
    else if (a == "--from-dumper") {
      if (++i == args.size()) return make_error(Errc::invalid_argument, "--from-dumper needs a PATH");
      o.from_dumper = true;
      o.input = args[i];
    } else if (a.size() > 1 && a[0] == '-') {
      return make_error(Errc::invalid_argument, "savecore: unknown option {}", a);
    } else {
      positional.push_back(a);
    }
  }
  if (o.help) return o;
  if (o.from_dumper && o.keep) return make_error(Errc::invalid_argument, "savecore: -k applies to a DEVICE only");
  if (positional.size() != (o.from_dumper ? 1u : 2u))
    return make_error(Errc::invalid_argument, "{}", o.from_dumper ? "savecore --from-dumper takes PATH and a DIRECTORY"
                                                                  : "savecore takes a DEVICE and a DIRECTORY");
  if (!o.from_dumper) o.input = positional.front();
  o.directory = positional.back();
  return o;
}

Expected<SavedDump> run_savecore(const SavecoreOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(options.directory, ec))
    return make_error(Errc::not_found, "{}: not a directory", options.directory);
  return options.from_dumper ? save_dumper_stream(options) : save_device(options);
}

}  // namespace coroner::capture
