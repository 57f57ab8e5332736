// open_dump: format detection from content (never the file name).
#include "capture/format/byte_source.hpp"
#include "capture/format/decompressed_file.hpp"
#include "capture/format/dump.hpp"
#include "capture/format/elf_vmcore.hpp"
#include "capture/format/flattened.hpp"
#include "capture/format/freebsd_dump_device.hpp"
#include "capture/format/freebsd_info_file.hpp"
#include "capture/format/freebsd_minidump_header.hpp"
#include "capture/format/freebsd_open.hpp"
#include "capture/format/kdump_compressed.hpp"

#include <array>

namespace coroner {
namespace {

enum class Format { elf, kdump, freebsd_minidump, freebsd_dump_device, unknown };

// Enough to tell the formats apart and to show in an error.
constexpr size_t kHeadSize = 16;

// The head bytes available (fewer for a tiny file).
Expected<std::vector<std::byte>> read_head(const ByteSource& source) {
  std::vector<std::byte> head(std::min<uint64_t>(kHeadSize, source.size()));
  CORONER_CHECK(source.read_at(0, head));
  return head;
}

Format detect(std::span<const std::byte> head) {
  if (looks_like_elf(head)) return Format::elf;
  if (looks_like_kdump(head)) return Format::kdump;
  if (freebsd::looks_like_minidump(head)) return Format::freebsd_minidump;
  return Format::unknown;
}

std::string hex_bytes(std::span<const std::byte> bytes) {
  std::string text;
  for (std::byte b : bytes) text += fmt::format("{}{:02x}", text.empty() ? "" : " ", static_cast<unsigned>(b));
  return text;
}

struct OpenedFile {
  std::shared_ptr<const ByteSource> source;
  Format format = Format::unknown;
  Compression compression = Compression::none;  // what the file was stored as
};

// Maps `path` (decompressing .zst/.gz/.xz first), unwraps a flattened
// stream, and detects what remains.
Expected<OpenedFile> open_file(const std::string& path) {
  CORONER_TRY(compression, detect_file_compression(path));
  CORONER_TRY(real_path, decompressed_path(path));
  CORONER_TRY(source, open_file_source(real_path));
  if (source->size() == 0) return make_error(Errc::unsupported, "{}: empty file, not a vmcore", path);
  CORONER_TRY(head, read_head(*source));
  if (looks_like_flattened(head)) {
    CORONER_TRY(reassembled, open_flattened(source));
    source = std::move(reassembled);
    CORONER_TRY(inner_head, read_head(*source));
    head = std::move(inner_head);
    if (detect(head) == Format::unknown)
      return make_error(Errc::unsupported, "{}: flattened stream holds neither a kdump nor an ELF dump (first bytes {})",
                        path, hex_bytes(head));
  }
  Format format = detect(head);
  // A FreeBSD dump device keeps its header in the last block.
  if (format == Format::unknown && freebsd::looks_like_dump_device(*source)) format = Format::freebsd_dump_device;
  if (format == Format::unknown && freebsd::is_encrypted_vmcore_name(path))
    return make_error(Errc::unsupported, "{}: unknown content under savecore's name for an encrypted FreeBSD dump: "
                                         "decrypt it with decryptcore(8), key.N and the dump host's private RSA key, "
                                         "then open vmcore.N",
                      path);
  if (format == Format::unknown)
    return make_error(Errc::unsupported, "{}: not a vmcore (unknown format, first bytes {})", path, hex_bytes(head));
  return OpenedFile{std::move(source), format, compression};
}

}  // namespace

Expected<std::unique_ptr<Dump>> open_dump(const std::vector<std::string>& paths) {
  if (paths.empty()) return make_error(Errc::invalid_argument, "no dump file given");
  std::vector<OpenedFile> files;
  for (const std::string& path : paths) {
    CORONER_TRY(file, open_file(path));
    files.push_back(std::move(file));
  }
  if (files.size() == 1 && files.front().format == Format::elf) return open_elf_dump(files.front().source);
  if (files.size() == 1 && files.front().format == Format::freebsd_minidump)
    return freebsd::open_minidump_file(files.front().source, paths.front(), files.front().compression);
  if (files.size() == 1 && files.front().format == Format::freebsd_dump_device)
    return freebsd::open_dump_device(files.front().source, paths.front());
  std::vector<std::shared_ptr<const ByteSource>> parts;
  for (size_t i = 0; i < files.size(); ++i) {
    if (files[i].format != Format::kdump)
      return make_error(Errc::invalid_argument,
                        "{}: {} cannot be opened together with other files (only the parts of a makedumpfile "
                        "--split dump can)",
                        paths[i], files[i].format == Format::elf ? "an ELF vmcore" : "a FreeBSD dump");
    parts.push_back(std::move(files[i].source));
  }
  return open_kdump(std::move(parts));
}

}  // namespace coroner
