#include "tests/support/fixtures.hpp"

#include "capture/format/decompressed_file.hpp"

#include <catch2/catch.hpp>
#include <lzma.h>
#include <openssl/evp.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

namespace coroner::test {

const fs::path& fixtures_root() {
  static const fs::path root = [] {
    const char* env = std::getenv("CORONER_FIXTURES");
    fs::path p = env && *env ? fs::path(env) : fs::path(CORONER_SOURCE_DIR) / ".." / "shared" / "fixtures";
    return fs::weakly_canonical(p);
  }();
  if (!fs::exists(root / "README.md")) {
    std::cerr << "\n*** SKIPPED: the real fixtures are not at " << root.string()
              << " (set CORONER_FIXTURES or put shared/ beside the repository) ***\n\n";
    std::exit(77);
  }
  return root;
}

const fs::path& cache_dir() {
  static const fs::path dir = [] {
    fs::path p = fs::path(CORONER_BINARY_DIR) / "test-cache";
    fs::create_directories(p);
    return p;
  }();
  return dir;
}

std::string decompressed_fixture(const fs::path& path) {
  auto result = decompressed_path(path.string(), cache_dir().string());
  if (!result) FAIL("cannot decompress fixture: " << result.error().message());
  return *result;
}

namespace {

std::string zstd_stream(std::string_view data) {
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> ctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  REQUIRE(ctx);
  // The zstd tool's defaults: level 3 and a content checksum (without it a
  // damaged raw block would decode to wrong bytes without an error).
  REQUIRE(!ZSTD_isError(ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_compressionLevel, 3)));
  REQUIRE(!ZSTD_isError(ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_checksumFlag, 1)));
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t size = ZSTD_compress2(ctx.get(), out.data(), out.size(), data.data(), data.size());
  if (ZSTD_isError(size)) FAIL("zstd compression failed: " << ZSTD_getErrorName(size));
  out.resize(size);
  return out;
}

std::string gzip_stream(std::string_view data) {
  REQUIRE(data.size() <= std::numeric_limits<uInt>::max());  // one deflate() call
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and CRC-32 trailer around the deflate data.
  REQUIRE(deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) FAIL("gzip compression failed: zlib status " << rc);
  return out;
}

std::string xz_stream(std::string_view data) {
  std::string out(lzma_stream_buffer_bound(data.size()), '\0');
  size_t size = 0;
  lzma_ret rc = lzma_easy_buffer_encode(LZMA_PRESET_DEFAULT, LZMA_CHECK_CRC64, nullptr,
                                        reinterpret_cast<const uint8_t*>(data.data()), data.size(),
                                        reinterpret_cast<uint8_t*>(out.data()), &size, out.size());
  if (rc != LZMA_OK) FAIL("xz compression failed: liblzma status " << rc);
  out.resize(size);
  return out;
}

}  // namespace

std::string compressed_stream(Compression kind, std::string_view data) {
  switch (kind) {
    case Compression::zstd: return zstd_stream(data);
    case Compression::gzip: return gzip_stream(data);
    case Compression::xz: return xz_stream(data);
    case Compression::none: break;
  }
  FAIL("compressed_stream: no compression asked for");
  throw;
}

std::string hex(const void* data, size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 15]);
  }
  return out;
}

std::string file_contents(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) FAIL("cannot read " << path.string());
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void write_file_contents(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) FAIL("cannot write " << path.string());
}

std::string sha256_hex(const void* data, size_t size) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data, size, digest, &length, EVP_sha256(), nullptr);
  return hex(digest, length);
}

uint64_t hex_value(const nlohmann::json& value) {
  return std::stoull(value.get<std::string>(), nullptr, 16);
}

CommandResult run_shell(const std::string& command) {
  CommandResult result;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
  REQUIRE(pipe);
  std::array<char, 4096> buf{};
  while (size_t got = std::fread(buf.data(), 1, buf.size(), pipe.get())) result.output.append(buf.data(), got);
  int status = pclose(pipe.release());
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string run_command(const std::string& command) {
  std::string output;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
  if (!pipe) FAIL("cannot run: " << command);
  std::array<char, 4096> buf{};
  while (size_t got = std::fread(buf.data(), 1, buf.size(), pipe.get())) output.append(buf.data(), got);
  int status = pclose(pipe.release());
  if (status != 0) FAIL("command failed (status " << status << "): " << command << "\n" << output);
  return output;
}

namespace {

fs::path case_dir(const DumpCase& c) { return fixtures_root() / c.arch_dir / c.scenario; }

// makedumpfile arguments of the variants made at test time from the
// x86_64 oops-kdump vmcore.
const std::map<std::string, std::string>& makedumpfile_variants() {
  static const std::map<std::string, std::string> variants = {
      {"lzo", "-l -d 31"}, {"elf-d31", "-E -d 31"}, {"flat", "-F -l -d 31"},
      {"split", "--split -l -d 31"}, {"d0", "-l -d 0"}, {"d1", "-l -d 1"},
  };
  return variants;
}

// Makes a variant once; concurrent test processes each write a private
// temporary and rename it, so readers only ever see complete files.
std::vector<std::string> make_variant(const DumpCase& c) {
  const std::string& args = makedumpfile_variants().at(c.variant);
  std::string vmcore = decompressed_fixture(case_dir(c) / "vmcore.zst");
  fs::path base = cache_dir() / (c.arch_dir + "-" + c.scenario + "-" + c.variant);
  std::vector<fs::path> outputs;
  if (c.variant == "split") outputs = {base.string() + ".1", base.string() + ".2"};
  else outputs = {base};
  bool all_there = true;
  for (auto& o : outputs) all_there = all_there && fs::exists(o);
  if (!all_there) {
    std::string tag = "." + std::to_string(getpid()) + ".tmp";
    std::string cmd = "makedumpfile " + args + " " + vmcore;
    // run_command merges stderr into what it captures: keep makedumpfile's
    // messages out of the flattened stream on stdout.
    if (c.variant == "flat") cmd = "{ " + cmd + " > " + base.string() + tag + "; }";
    else for (auto& o : outputs) cmd += " " + o.string() + tag;
    for (auto& o : outputs) fs::remove(o.string() + tag);
    run_command(cmd);
    for (auto& o : outputs) fs::rename(o.string() + tag, o);
  }
  std::vector<std::string> files;
  for (auto& o : outputs) files.push_back(o.string());
  return files;
}

}  // namespace

std::vector<std::string> DumpCase::files() const {
  if (makedumpfile_variants().count(variant)) return make_variant(*this);
  static const std::map<std::string, std::string> file_of = {
      {"vmcore", "vmcore.zst"}, {"elf", "elf.zst"}, {"d31", "d31"}, {"d31-zstd", "d31-zstd"},
      {"d31-snappy", "d31-snappy"}, {"kdump-zlib", "kdump-zlib"}};
  return {decompressed_fixture(case_dir(*this) / file_of.at(variant))};
}

std::string DumpCase::vmlinux() const { return decompressed_fixture(fixtures_root() / arch_dir / "vmlinux.zst"); }

std::string DumpCase::module_path() const { return (fixtures_root() / arch_dir / "fx_crash.ko").string(); }

const nlohmann::json& DumpCase::facts() const {
  static std::mutex mutex;
  static std::map<std::string, nlohmann::json> cache;
  std::lock_guard lock(mutex);
  std::string key = arch_dir + "/" + scenario;
  auto it = cache.find(key);
  if (it == cache.end()) {
    std::ifstream in(case_dir(*this) / "facts.json");
    if (!in) FAIL("cannot read " << (case_dir(*this) / "facts.json").string());
    it = cache.emplace(key, nlohmann::json::parse(in)).first;
  }
  return it->second;
}

const std::vector<DumpCase>& all_dumps() {
  static const std::vector<DumpCase> cases = [] {
    std::vector<DumpCase> v;
    auto add = [&](std::string arch, std::string scenario, std::string variant, bool user, bool filtered) {
      std::string short_arch = arch.substr(std::string("linux-6.1-").size());
      v.push_back({short_arch + "/" + scenario + "/" + variant, arch, scenario, variant, user, filtered});
    };
    const std::string x86 = "linux-6.1-x86_64", a64 = "linux-6.1-arm64", a64k = "linux-6.1-arm64-16k";
    add(x86, "oops-kdump", "vmcore", true, false);
    add(x86, "oops-kdump", "d31", false, true);
    add(x86, "oops-kdump", "d31-zstd", false, true);
    add(x86, "oops-kdump", "d31-snappy", false, true);
    add(x86, "oops-kdump", "lzo", false, true);
    add(x86, "oops-kdump", "elf-d31", false, true);
    add(x86, "oops-kdump", "flat", false, true);
    add(x86, "oops-kdump", "split", false, true);
    add(x86, "oops-kdump", "d0", true, false);
    add(x86, "oops-kdump", "d1", true, false);
    add(x86, "oops-kdump-la57", "d31", false, true);
    add(x86, "panic-qemu", "elf", true, false);
    add(x86, "panic-qemu", "kdump-zlib", true, false);
    add(a64, "oops-kdump", "vmcore", true, false);
    add(a64, "oops-kdump", "d31", false, true);
    add(a64, "panic-qemu", "elf", true, false);
    add(a64, "panic-qemu", "kdump-zlib", true, false);
    add(a64k, "oops-kdump", "d31", false, true);
    add(a64k, "panic-qemu", "kdump-zlib", true, false);
    return v;
  }();
  return cases;
}

const DumpCase& fixture_case(const std::string& id) {
  for (const DumpCase& c : all_dumps())
    if (c.id == id) return c;
  FAIL("no fixture " << id);
  throw;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace coroner::test
