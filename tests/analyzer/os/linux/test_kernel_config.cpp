// unpack_kernel_config on blobs laid out as kernel/configs.c does
// ("IKCFG_ST", the gzip stream of .config, "IKCFG_ED"), made with zlib: the
// fixture kernels are built without CONFIG_IKCONFIG.
#include "analyzer/os/linux/kernel_config.hpp"
#include "tests/support/fixtures.hpp"

#include <catch2/catch.hpp>

namespace coroner::test {

namespace {

std::vector<std::byte> blob_of(std::string_view magic, const std::string& gzip, std::string_view end) {
  std::string text = std::string(magic) + gzip + std::string(end);
  std::vector<std::byte> bytes(text.size());
  std::memcpy(bytes.data(), text.data(), text.size());
  return bytes;
}

}  // namespace

TEST_CASE("unpack_kernel_config inflates the config between IKCFG_ST and IKCFG_ED", "[kernel_config]") {
  const std::string config = "#\n# Automatically generated file; DO NOT EDIT.\n#\nCONFIG_IKCONFIG=y\n"
                             "# CONFIG_SYSVIPC is not set\nCONFIG_HZ=250\n";
  const std::string gzip = compressed_stream(Compression::gzip, config);
  auto text = linux_kernel::unpack_kernel_config(blob_of("IKCFG_ST", gzip, "IKCFG_ED"));
  REQUIRE(text);
  CHECK(*text == config);
  // Without the end marker (a symbol size that stops at the stream's end).
  auto bare = linux_kernel::unpack_kernel_config(blob_of("IKCFG_ST", gzip, ""));
  REQUIRE(bare);
  CHECK(*bare == config);
}

TEST_CASE("unpack_kernel_config rejects a blob without the magic or with a cut stream", "[kernel_config]") {
  const std::string gzip = compressed_stream(Compression::gzip, std::string(10000, 'x'));
  auto no_magic = linux_kernel::unpack_kernel_config(blob_of("IKCFG_XX", gzip, "IKCFG_ED"));
  REQUIRE_FALSE(no_magic);
  CHECK_THAT(no_magic.error().message(), Catch::Contains("IKCFG_ST"));
  auto cut = linux_kernel::unpack_kernel_config(blob_of("IKCFG_ST", gzip.substr(0, gzip.size() / 2), ""));
  REQUIRE_FALSE(cut);
  CHECK_THAT(cut.error().message(), Catch::Contains("corrupt or cut short"));
  CHECK_FALSE(linux_kernel::unpack_kernel_config({}));
}

}  // namespace coroner::test
