// Writes the seed corpora of the fuzz targets from the real fixtures into
// the build directory (CORONER_FUZZ_SEED_DIR/<target>/): the first bytes of
// real dumps, their note areas, VMCOREINFO and compressed pages, a short
// flattened stream; the first types of the Debian distro kernel's BTF when
// its vmlinux is there (tests/support/distro_dumps.hpp). Nothing here is
// committed; the targets that need no real data (page-table walks, lists,
// ORC) start from an empty corpus.
#include "capture/format/dump.hpp"
#include "capture/format/kdump_compressed.hpp"
#include "tests/analyzer/arch/freebsd_minidump_fixture.hpp"
#include "tests/support/distro_dumps.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/support/freebsd_minidump_writer.hpp"

#include <catch2/catch.hpp>

#include <bpf/btf.h>

#include <algorithm>
#include <fstream>

using namespace coroner;
using namespace coroner::test;

namespace {

constexpr uint64_t kPrefix = 64 * 1024;

void write_seed(const std::string& target, const std::string& name, std::string_view bytes) {
  fs::path dir = fs::path(CORONER_FUZZ_SEED_DIR) / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// A minidump of `contents` with only its lowest few pages, dump_avail cut
// down to them, one page of page-table entries and a one-page message
// buffer that has wrapped: every section still there, small enough for a
// fast fuzzing run (the whole fixture's make 100 KiB to 4 MiB).
MinidumpContents small_minidump(MinidumpContents contents) {
  const uint64_t page = contents.header.page_size();
  contents.page_table.resize(std::min<size_t>(contents.page_table.size(), page / 8));
  contents.msgbuf = wrapped_msgbuf(std::string(page, 'x') + "\nlast line\n", page, &contents.msg_size);
  while (contents.pages.size() > 4) contents.pages.erase(std::prev(contents.pages.end()));
  uint64_t end = contents.pages.empty() ? 0 : contents.pages.rbegin()->first + page;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto [start, stop] : contents.dump_avail)
    if (start < end) ranges.emplace_back(start, std::min(stop, end));
  contents.dump_avail = ranges;
  return contents;
}

std::string file_prefix(const std::string& path, uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  bytes.resize(static_cast<size_t>(in.gcount()));
  return bytes;
}

std::string seed_name(const DumpCase& c) {
  std::string name = c.id;
  std::replace(name.begin(), name.end(), '/', '-');
  return name;
}

std::unique_ptr<Dump> open_case(const DumpCase& c) {
  auto dump = open_dump(c.files());
  REQUIRE(dump);
  return std::move(*dump);
}

std::string read_source(const ByteSource& source, uint64_t offset, uint64_t size) {
  std::string bytes(size, '\0');
  REQUIRE(source.read_at(offset, std::as_writable_bytes(std::span(bytes))));
  return bytes;
}

uint64_t load_be64(const std::string& bytes, size_t at) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value = value << 8 | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

void store_be64(std::string& bytes, size_t at, uint64_t value) {
  for (size_t i = 0; i < 8; ++i) bytes[at + i] = static_cast<char>(value >> (56 - 8 * i));
}

// The header block and the records of `path` up to kPrefix bytes of data
// (the last one shortened), then the end marker.
std::string short_flattened_stream(const std::string& path) {
  std::string stream = file_prefix(path, 4096 + 2 * kPrefix);
  std::string out = stream.substr(0, 4096);
  size_t at = 4096, data = 0;
  while (at + 16 <= stream.size() && data < kPrefix) {
    uint64_t offset = load_be64(stream, at), size = load_be64(stream, at + 8);
    if (offset == ~uint64_t{0}) break;
    size = std::min<uint64_t>({size, kPrefix - data, stream.size() - at - 16});
    std::string header(16, '\0');
    store_be64(header, 0, offset);
    store_be64(header, 8, size);
    out += header + stream.substr(at + 16, size);
    data += size;
    at += 16 + load_be64(stream, at + 8);
  }
  return out + std::string(16, '\xff');
}

// The first `count` types of a BTF, re-encoded by libbpf with references
// past them turned into void: a few KiB of real kernel types.
std::string first_btf_types(const ::btf* full, uint32_t count) {
  ::btf* small = btf__new_empty();
  REQUIRE(small != nullptr);
  for (uint32_t id = 1; id <= count; ++id) REQUIRE(btf__add_type(small, full, btf__type_by_id(full, id)) > 0);
  auto clamp = [count](uint32_t& id) {
    if (id > count) id = 0;
  };
  for (uint32_t id = 1; id <= count; ++id) {
    auto* t = const_cast<btf_type*>(btf__type_by_id(small, id));  // libbpf's own, modifiable copy
    const uint16_t n = btf_vlen(t);
    switch (btf_kind(t)) {
      case BTF_KIND_ARRAY: clamp(btf_array(t)->type); clamp(btf_array(t)->index_type); break;
      case BTF_KIND_STRUCT: case BTF_KIND_UNION: for (uint16_t i = 0; i < n; ++i) clamp(btf_members(t)[i].type); break;
      case BTF_KIND_FUNC_PROTO: clamp(t->type); for (uint16_t i = 0; i < n; ++i) clamp(btf_params(t)[i].type); break;
      case BTF_KIND_DATASEC: for (uint16_t i = 0; i < n; ++i) clamp(btf_var_secinfos(t)[i].type); break;
      case BTF_KIND_INT: case BTF_KIND_ENUM: case BTF_KIND_ENUM64: case BTF_KIND_FWD: case BTF_KIND_FLOAT: break;
      default: clamp(t->type); break;
    }
  }
  uint32_t size = 0;
  const void* raw = btf__raw_data(small, &size);
  std::string bytes(static_cast<const char*>(raw), size);
  btf__free(small);
  return bytes;
}

}  // namespace

TEST_CASE("fuzz seeds from the distro kernel's BTF") {
  const std::optional<DistroKernel> kernel = made_distro_kernel("6.1-amd64");
  if (!kernel) {
    WARN("no BTF seeds for fuzz_btf: the distro kernel 6.1-amd64 was not made (tests/distro)");
    return;
  }
  const std::string vmlinux = kernel->vmlinux();
  ::btf* full = btf__parse_elf(vmlinux.c_str(), nullptr);
  REQUIRE(full != nullptr);
  for (uint32_t count : {40u, 150u})
    write_seed("fuzz_btf", fmt::format("vmlinux-{}-types", count), first_btf_types(full, count));
  btf__free(full);
}

TEST_CASE("fuzz seeds from the real fixtures") {
  for (const char* id : {"x86_64/panic-qemu/elf", "arm64/panic-qemu/elf", "x86_64/oops-kdump/elf-d31"}) {
    const DumpCase& c = fixture_case(id);
    write_seed("fuzz_elf_vmcore", seed_name(c), file_prefix(c.files()[0], kPrefix));
  }
  for (const char* id : {"x86_64/oops-kdump/d31", "x86_64/oops-kdump/d31-zstd", "x86_64/oops-kdump/d31-snappy",
                         "x86_64/oops-kdump/lzo", "x86_64/oops-kdump-la57/d31", "x86_64/panic-qemu/kdump-zlib",
                         "arm64/oops-kdump/d31", "arm64-16k/panic-qemu/kdump-zlib"}) {
    const DumpCase& c = fixture_case(id);
    std::string name = seed_name(c);
    write_seed("fuzz_kdump", name, file_prefix(c.files()[0], kPrefix));
    auto dump = open_case(c);
    const auto& kdump = dynamic_cast<const KdumpDump&>(*dump);
    const ByteSource& source = *kdump.parts().front().source;
    const kdump::SubHeader& sub = kdump.sub_header();
    write_seed("fuzz_elf_notes", name, read_source(source, sub.offset_note, sub.size_note));
    std::string vmcoreinfo = kdump.vmcoreinfo_text().value_or("");
    write_seed("fuzz_vmcoreinfo", name, vmcoreinfo);
    write_seed("fuzz_printk_log", name, vmcoreinfo + '\0' + std::string(256, '\0'));
    // A few compressed pages, behind the target's codec and page-size byte.
    int pages = 0;
    for (uint64_t pfn = 0; pfn < kdump.max_mapnr() && pages < 3; ++pfn) {
      if (!kdump.page_dumped(pfn) || kdump.codec_of_page(pfn) == PageCodec::none) continue;
      auto desc = kdump.page_descriptor(pfn);
      REQUIRE(desc);
      char selector = static_cast<char>(static_cast<int>(kdump.codec_of_page(pfn)) +
                                        5 * (kdump.page_size() == 16384 ? 1 : kdump.page_size() == 65536 ? 2 : 0));
      write_seed("fuzz_page_codec", name + "-" + std::to_string(pages++),
                 selector + read_source(source, desc->offset, desc->size));
    }
  }
  write_seed("fuzz_flattened", "x86_64-oops-kdump-flat",
             short_flattened_stream(fixture_case("x86_64/oops-kdump/flat").files()[0]));
  for (const char* id : {"x86_64/oops-kdump/d31", "arm64/oops-kdump/d31", "arm64-16k/oops-kdump/d31"}) {
    const DumpCase& c = fixture_case(id);
    for (uint32_t version : {1u, 2u, 3u}) {
      if (c.arch_dir.ends_with("16k") && version < 3) continue;
      const MinidumpContents& contents = fixture_minidump(c, version).contents;
      std::string minidump = write_minidump(contents);
      write_seed("fuzz_freebsd_minidump", fmt::format("{}-v{}", seed_name(c), version), minidump);
      write_seed("fuzz_freebsd_minidump", fmt::format("{}-v{}-small", seed_name(c), version),
                 write_minidump(small_minidump(contents)));
      freebsd::KernelDumpHeader header;
      header.architecture = c.arch_dir.ends_with("x86_64") ? "amd64" : "aarch64";
      header.block_size = 512;
      if (version == 3)
        write_seed("fuzz_freebsd_minidump", fmt::format("{}-device", seed_name(c)),
                   write_dump_device(minidump, header));
    }
  }
  int line = 0;
  for (const char* text : {"bt -a", "rd -64 ffffffff81000000 8 > out.txt", "p (a > b) | grep x",
                           "struct task_struct.comm,pid -x 0xffff888003e3c000 >> 'log file'",
                           "ps -p \"1 2\" 'x y'", "eval (1 | 2) << 3", "foreach bt -f | less", "set 01234"})
    write_seed("fuzz_command_line", "line-" + std::to_string(line++), text);
}
