// The keyring erase profile (capture/erase/profiles/keyring.conf) on a dump
// of Debian's 6.1 kernel whose guest added keys with known payloads
// (tests/distro/add_keys.c): a user, a logon and an encrypted key (and the
// encrypted key's user master key). coroner-capture walks key_serial_tree
// (an rb-tree) in the dump and erases the payloads; they read 'X' in
// coroner and crash 8.0.2, the plain text is nowhere in the erased dump
// file, and every other byte of every page is the unerased dump's. The
// payloads the profile finds are drgn's (keyring_payloads.py), there and
// on Debian's 6.12 kernel.
#include "tests/analyzer/frontends/erase_offsets/erase_checks.hpp"
#include "tests/support/distro_dumps.hpp"

#include <set>
#include <sstream>

using namespace coroner;
using namespace coroner::test;

TEST_CASE("the keyring erase profile erases the payloads of user and logon and encrypted keys", "[distro][erase]") {
  const DistroKernel kernel = distro_kernel("6.1-amd64-keys");
  fs::path dir = erase_scratch("keyring");
  const std::string profile = fs::path(CORONER_SOURCE_DIR) / "capture/erase/profiles/keyring.conf";
  std::string offsets = (dir / "offsets").string(), erased = (dir / "erased").string(), plain = (dir / "plain").string();
  CommandResult made = run_shell(fmt::format("{} erase-offsets --config {} -o {} {}", CORONER_BINARY, profile, offsets,
                                             kernel.vmlinux()));
  INFO(made.output);
  REQUIRE(made.status == 0);
  const std::string text = file_contents(offsets);
  CHECK_THAT(text, Catch::Contains("for k@key_serial_tree rbtree sym:"));
  CHECK_THAT(text, Catch::Contains(" member 8 left 16 right 8\n"));  // struct key's serial_node, struct rb_node
  CHECK_THAT(text, Catch::Contains("  for p@k.payload.rcu_data0 one elem +"));
  CHECK_THAT(text, Catch::Contains("    erase p.data elem +24 size-at elem +16 width 2\n"));  // struct user_key_payload

  // Uncompressed (-d 31 without -c), so that the file itself can be searched.
  CommandResult captured = run_shell(fmt::format("{} -d 31 --config {} {} {}", CORONER_CAPTURE_BINARY, offsets,
                                                 kernel.dump(), erased));
  INFO(captured.output);
  REQUIRE(captured.status == 0);
  CHECK_THAT(captured.output, Catch::Contains("Erased (--config): 120 bytes"));
  REQUIRE(run_shell(fmt::format("{} -d 31 {} {}", CORONER_CAPTURE_BINARY, kernel.dump(), plain)).status == 0);
  auto out = open_or_fail(erased), in = open_or_fail(plain);

  // The payloads the profile finds are the ones add_keys.c added.
  const std::set<std::string> secrets = {"coroner-secret-0123456789", "coroner-logon-secret-9876543210",
                                         "coroner-master-secret-abcdefghij"};
  auto info = VmcoreInfo::parse(in->vmcoreinfo_text().value_or(""));
  auto arch = arch::make_arch(in->machine(), info);
  REQUIRE(arch);
  KernelMemory plain_memory(*in, **arch), erased_memory(*out, **arch);
  auto read = [](const KernelMemory& memory, const capture::EraseRange& r) {
    std::string bytes(r.size, '\0');
    REQUIRE(memory.read(r.vaddr, std::as_writable_bytes(std::span(bytes))));
    return bytes;
  };
  std::set<std::string> found;
  uint64_t user_key = 0, decrypted = 0;
  for (const capture::EraseRange& r : erase_ranges(*in, offsets)) {
    std::string payload = read(plain_memory, r);
    if (r.label == "p.data") found.insert(payload);
    if (r.label == "p.decrypted_data") decrypted = r.size;
    if (payload == "coroner-secret-0123456789") user_key = r.vaddr;
    CHECK(read(erased_memory, r) == std::string(r.size, 'X'));
  }
  CHECK(found == secrets);
  CHECK(decrypted == 32);  // "new user:coroner-master 32"
  REQUIRE(user_key != 0);

  std::map<uint64_t, std::byte> want = erased_bytes(*in, offsets);
  CHECK(want.size() == 120);
  PageComparison pages = compare_pages(*in, *out, want);
  CHECK(pages.pages > 1000);
  CHECK(pages.wrong == 0);
  CHECK(pages.erased_seen == want.size());
  const std::string plain_file = file_contents(plain), erased_file = file_contents(erased);
  for (const std::string& secret : secrets) {
    CHECK(plain_file.find(secret) != std::string::npos);
    CHECK(erased_file.find(secret) == std::string::npos);
  }

  const std::string xs(25, 'X');
  CommandResult coroner = run_shell(fmt::format("CORONER_BACKGROUND_INDEX=0 {} -s -x 'rd -a {:#x}' {} {}", CORONER_BINARY,
                                                user_key, kernel.vmlinux(), erased));
  INFO(coroner.output);
  CHECK(coroner.status == 0);
  CHECK_THAT(coroner.output, Catch::Contains(fmt::format("{:x}:  {}\n", user_key, xs)));
  CommandResult crash = run_shell(fmt::format("printf 'rd -a {:#x}\\nrd -16 {:#x} 1\\nquit\\n' | crash -s {} {}", user_key,
                                              user_key - 8, kernel.vmlinux(), erased));
  INFO(crash.output);
  CHECK(crash.status == 0);
  CHECK_THAT(crash.output, Catch::Contains("Kernel data has been erased from this dumpfile"));
  CHECK_THAT(crash.output, Catch::Contains(fmt::format("{:x}:  {}", user_key, xs)));
  CHECK_THAT(crash.output, Catch::Contains(fmt::format("{:x}:  0019", user_key - 8)));  // datalen is kept
}

namespace {

using Payloads = std::vector<std::pair<uint64_t, uint64_t>>;  // address, size

// What drgn finds (keyring_payloads.py): the ground truth of the rb-tree walk.
Payloads drgn_payloads(const DistroKernel& kernel) {
  std::string out = run_command(fmt::format("/usr/bin/python3 {}/tests/analyzer/frontends/erase_offsets/keyring_payloads.py {} {}",
                                            CORONER_SOURCE_DIR, kernel.vmlinux(), kernel.dump()));
  Payloads payloads;
  for (const std::string& line : lines_of(out)) {
    std::istringstream words(line);
    std::string address;
    uint64_t size = 0;
    if (line.starts_with("0x") && words >> address >> size) payloads.push_back({std::stoull(address, nullptr, 16), size});
  }
  return payloads;
}

// What the profile's offsets erase in the kernel's dump.
Payloads profile_payloads(const DistroKernel& kernel) {
  fs::path dir = erase_scratch("keyring-" + kernel.name);
  const std::string profile = fs::path(CORONER_SOURCE_DIR) / "capture/erase/profiles/keyring.conf";
  const std::string offsets = (dir / "offsets").string();
  CommandResult made = run_shell(fmt::format("{} erase-offsets --config {} -o {} {}", CORONER_BINARY, profile, offsets,
                                             kernel.vmlinux()));
  INFO(made.output);
  REQUIRE(made.status == 0);
  Payloads payloads;
  for (const capture::EraseRange& r : erase_ranges(*open_or_fail(kernel.dump()), offsets))
    payloads.push_back({r.vaddr, r.size});
  return payloads;
}

}  // namespace

TEST_CASE("the keyring erase profile finds the payloads drgn finds on Debian's 6.1 and 6.12 kernels", "[distro][erase]") {
  // 6.1-amd64-keys: the keys of add_keys.c; 6.12-amd64: the kernel's own
  // "opal-boot-pin" user key (SED OPAL's boot PIN), 255 bytes.
  const DistroKernel keys = distro_kernel("6.1-amd64-keys");
  Payloads want = drgn_payloads(keys);
  CHECK(want.size() == 4);
  CHECK(profile_payloads(keys) == want);
  const DistroKernel current = distro_kernel("6.12-amd64");
  want = drgn_payloads(current);
  CHECK(want == Payloads{{want.empty() ? 0 : want[0].first, 255}});
  CHECK(profile_payloads(current) == want);
}
