// Opening FreeBSD kernel dumps in each form savecore and the kernel leave:
// a minidump file (vmcore.N, livecore.N; decompressed first when it was
// .zst or .gz) with savecore's info.N beside it, or a raw dump-device image
// whose leader and trailer frame a plain, gzip or zstd minidump.
#pragma once

#include "capture/format/byte_source.hpp"
#include "capture/format/decompressed_file.hpp"
#include "capture/format/dump.hpp"

#include <memory>
#include <string>

namespace coroner::freebsd {

// `source` holds the minidump itself; `path` is the name the user gave
// (info.N is looked for beside it), `compression` what it was stored as.
Expected<std::unique_ptr<Dump>> open_minidump_file(std::shared_ptr<const ByteSource> source, const std::string& path,
                                                   Compression compression);

// `source` is a dump device or its image (looks_like_dump_device).
Expected<std::unique_ptr<Dump>> open_dump_device(std::shared_ptr<const ByteSource> source, const std::string& path);

}  // namespace coroner::freebsd
