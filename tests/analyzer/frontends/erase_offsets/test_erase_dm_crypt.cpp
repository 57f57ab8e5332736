// The dm-crypt erase profile (capture/erase/profiles/dm-crypt.conf) on a
// dump of Debian's 6.1 kernel whose guest set up dm-crypt devices with
// known keys (tests/distro/add_dm_crypt.c, guest_init.sh): coroner-crypt,
// aes-xts-plain64 with a 64-byte key, for which the kernel built
// xts(ecb(aes-generic)); coroner-essiv, aes-cbc-essiv:sha256 with a 32-byte
// key (essiv(cbc(aes-generic),sha256-generic)); then, with aesni_intel
// loaded, a second table of coroner-crypt with another key, left inactive,
// for which it chose aesni's xts-aes-aesni. coroner-capture walks
// dm-ioctl's name_rb_tree, the live and the inactive tables' targets (a
// count from memory), picks the crypt_target ones (a module's symbol) and
// erases each volume key and its AES key schedules (xts: the data key's
// under xts's ecb child, the tweak key's; essiv: the ESSIV cipher's, keyed
// with the key's SHA-256, and cbc's; aesni: the internal __xts-aes-aesni's
// context under crypto_simd and cryptd, both keys'): they read 'X' in
// coroner and crash 8.0.2, the keys, their halves and quarters and the
// ESSIV key are nowhere in the erased dump file (and are in the unerased
// one), and every other byte of every page is the unerased dump's.
#include "tests/analyzer/frontends/erase_offsets/erase_checks.hpp"
#include "tests/support/distro_dumps.hpp"

#include <openssl/sha.h>

using namespace coroner;
using namespace coroner::test;

namespace {

// add_dm_crypt.c's keys: coroner-crypt's live table's and inactive table's
// (AES-256 for the data, the first half, and for the tweak), coroner-essiv's.
const char kLiveKey[] =
    "daf9114227e9948bb21ef4a1d1f32073c6506a79e6ff19aa3e811e7173ef6a20"
    "55cf55a02484ecb12a358372d422036f53d5474aa29b0eead2cd04e7a43ebf13";
const char kInactiveKey[] =
    "4c110e7c687e041a5b28183e78126344798c1a229d6e1a30f568a2d1c7452a58"
    "09ff4f04d83bdf39fde3b9ef7c69a89cd618ff92b9aadae552c11e4965e4a3c5";
const char kEssivKey[] = "1eec1e4e147709e3a95e2c25fd7add78d62aa4cdb0c9d779a6a2d68ef98020eb";

std::string binary(const std::string& hex) {
  std::string key;
  for (size_t i = 0; i < hex.size(); i += 2) key += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return key;
}

size_t occurrences(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("the dm-crypt erase profile erases the keys and AES key schedules of xts, essiv and aesni devices",
          "[distro][erase]") {
  const DistroKernel kernel = distro_kernel("6.1-amd64-dmcrypt");
  fs::path dir = erase_scratch("dm-crypt");
  const std::string profile = fs::path(CORONER_SOURCE_DIR) / "capture/erase/profiles/dm-crypt.conf";
  const std::string modules = (kernel.dir / "root/usr/lib/debug/lib/modules" / kernel.release).string();
  const std::string offsets = (dir / "offsets").string(), erased = (dir / "erased").string(),
                    plain = (dir / "plain").string();
  CommandResult made = run_shell(fmt::format("{} erase-offsets --config {} --mod-path {} -o {} {}", CORONER_BINARY,
                                             profile, modules, offsets, kernel.vmlinux()));
  INFO(made.output);
  REQUIRE(made.status == 0);
  const std::string text = file_contents(offsets);
  INFO(text);
  CHECK_THAT(text, Catch::Contains("\nmodules sym:"));
  CHECK_THAT(text, Catch::Contains("for hc@name_rb_tree rbtree mod:dm_mod:name_rb_tree member 0 left 16 right 8\n"));
  CHECK_THAT(text, Catch::Contains("\n  for tb@hc.md.map one elem +72 * +"));  // hash_cell's md, its map
  CHECK_THAT(text, Catch::Contains("\n  for tb@hc.new_map one elem +80 *\n"));
  // dm_table's targets: an array of num_targets struct dm_target.
  CHECK_THAT(text, Catch::Contains("\n    for ti@tb.targets array elem +224 * count-at elem +208 width 4 stride 80\n"));
  CHECK_THAT(text, Catch::Contains(" if elem +8 is mod:dm_crypt:crypt_target\n"));  // struct dm_target's type
  CHECK_THAT(text, Catch::Contains("        erase cc.key elem +888 size-at elem +208 width 4\n"));  // crypt_config
  CHECK_THAT(text,
             Catch::Contains("        for t@cc.cipher_tfm.tfms pointers elem +168 +0 * count-at elem +176 width 4\n"));
  CHECK_THAT(text, Catch::Contains(" if elem +8 +24 * +376 is mod:xts:__this_module\n"));  // tfm->__crt_alg->cra_module
  CHECK_THAT(text, Catch::Contains(" if elem +8 +24 * +376 is mod:aesni_intel:__this_module\n"));

  // Uncompressed (-d 31 without -c), so that the file itself can be searched.
  CommandResult captured = run_shell(fmt::format("{} -d 31 --config {} {} {}", CORONER_CAPTURE_BINARY, offsets,
                                                 kernel.dump(), erased));
  INFO(captured.output);
  REQUIRE(captured.status == 0);
  // xts: 64 + 2 * 484, aesni: 64 + 1000, essiv: 32 + 2 * 484
  CHECK_THAT(captured.output, Catch::Contains("Erased (--config): 3096 bytes"));
  REQUIRE(run_shell(fmt::format("{} -d 31 {} {}", CORONER_CAPTURE_BINARY, kernel.dump(), plain)).status == 0);
  auto out = open_or_fail(erased), in = open_or_fail(plain);

  // What the profile finds is, for each table, the key add_dm_crypt.c gave
  // and the AES contexts (struct crypto_aes_ctx: key_enc[60], key_dec[60],
  // key_length) expanded from its halves: AES's first round keys are the
  // key itself. aesni's struct aesni_xts_ctx holds two, 16-byte aligned;
  // ESSIV's cipher has the key's SHA-256 for its key. In name order:
  // coroner-crypt's live and inactive tables, coroner-essiv's.
  const std::vector<std::string> keys = {binary(kLiveKey), binary(kInactiveKey), binary(kEssivKey)};
  std::string essiv_key(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(keys[2].data()), keys[2].size(),
         reinterpret_cast<unsigned char*>(essiv_key.data()));
  auto info = VmcoreInfo::parse(in->vmcoreinfo_text().value_or(""));
  auto arch = arch::make_arch(in->machine(), info);
  REQUIRE(arch);
  KernelMemory plain_memory(*in, **arch), erased_memory(*out, **arch);
  auto read = [](const KernelMemory& memory, uint64_t vaddr, uint64_t size) {
    std::string bytes(size, '\0');
    REQUIRE(memory.read(vaddr, std::as_writable_bytes(std::span(bytes))));
    return bytes;
  };
  const std::vector<capture::EraseRange> ranges = erase_ranges(*in, offsets);
  std::vector<std::string> labels;
  std::vector<uint64_t> key_at;  // the live table's, the inactive one's
  for (const capture::EraseRange& r : ranges) {
    labels.push_back(r.label);
    const std::string before = read(plain_memory, r.vaddr, r.size);
    if (r.label == "cc.key") {
      key_at.push_back(r.vaddr);
      REQUIRE(key_at.size() <= keys.size());
      CHECK(before == keys[key_at.size() - 1]);
    } else {
      REQUIRE_FALSE(key_at.empty());
      const std::string& key = keys[key_at.size() - 1];
      if (r.label == "e.essiv_cipher.base.__crt_ctx") {
        REQUIRE(r.size == 484);
        CHECK(before.substr(0, 32) == essiv_key);
      } else if (r.label == "cd.child.base.__crt_ctx") {
        CHECK(r.size == 1000);  // __xts-aes-aesni's cra_ctxsize: the two contexts and alignment slack
        CHECK(before.find(key.substr(0, 32)) != std::string::npos);
        CHECK(before.find(key.substr(32, 32)) != std::string::npos);
      } else {
        REQUIRE(r.size == 484);  // sizeof(struct crypto_aes_ctx): aes_alg's cra_ctxsize
        // The data key's schedule under ecb (s.cipher), the tweak key's (x.tweak).
        CHECK(before.substr(0, 32) == key.substr(r.label == "x.tweak.base.__crt_ctx" ? 32 : 0, 32));
        CHECK(before.substr(480) == std::string("\x20\0\0\0", 4));  // key_length 32
      }
    }
    CHECK(read(erased_memory, r.vaddr, r.size) == std::string(r.size, 'X'));
  }
  CHECK(labels == std::vector<std::string>{"cc.key", "x.tweak.base.__crt_ctx", "s.cipher.base.__crt_ctx",
                                           "cc.key", "cd.child.base.__crt_ctx",
                                           "cc.key", "e.essiv_cipher.base.__crt_ctx", "s.cipher.base.__crt_ctx"});
  REQUIRE(key_at.size() == 3);

  std::map<uint64_t, std::byte> want = erased_bytes(*in, offsets);
  CHECK(want.size() == 3096);
  PageComparison pages = compare_pages(*in, *out, want);
  CHECK(pages.pages > 1000);
  CHECK(pages.wrong == 0);
  CHECK(pages.erased_seen == want.size());
  // Each key, each half (an AES-256 key) and each quarter (what the
  // decryption schedule's last round key repeats) are in the unerased file
  // (cc.key, the schedules) and nowhere in the erased one; so is ESSIV's.
  const std::string plain_file = file_contents(plain), erased_file = file_contents(erased);
  CHECK(occurrences(plain_file, essiv_key) == 1);
  CHECK(occurrences(erased_file, essiv_key) == 0);
  for (const std::string& key : keys) {
    CHECK(occurrences(plain_file, key) >= 1);
    CHECK(occurrences(erased_file, key) == 0);
    for (size_t size : {32, 16})
      for (size_t at = 0; at < key.size(); at += size) {
        INFO("key bytes " << at << " to " << at + size);
        CHECK(occurrences(plain_file, key.substr(at, size)) >= 2);
        CHECK(occurrences(erased_file, key.substr(at, size)) == 0);
      }
  }

  const std::string xs(64, 'X');
  CommandResult coroner = run_shell(fmt::format("CORONER_BACKGROUND_INDEX=0 {} -s -x 'rd -a {:#x}' {} {}",
                                                CORONER_BINARY, key_at[0], kernel.vmlinux(), erased));
  INFO(coroner.output);
  CHECK(coroner.status == 0);
  CHECK_THAT(coroner.output, Catch::Contains(fmt::format("{:x}:  {}", key_at[0], xs)));
  CommandResult crash = run_shell(fmt::format("printf 'rd -8 {:#x} 16\\nrd -8 {:#x} 16\\nquit\\n' | crash -s {} {}",
                                              key_at[0], key_at[1] + 48, kernel.vmlinux(), erased));
  INFO(crash.output);
  CHECK(crash.status == 0);
  CHECK_THAT(crash.output, Catch::Contains("Kernel data has been erased from this dumpfile"));
  const std::string row = "58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58   XXXXXXXXXXXXXXXX";
  CHECK_THAT(crash.output, Catch::Contains(fmt::format("{:x}:  {}", key_at[0], row)));
  CHECK_THAT(crash.output, Catch::Contains(fmt::format("{:x}:  {}", key_at[1] + 48, row)));
}
