// Kernel virtual addresses of FreeBSD minidumps made from the real
// fixtures (freebsd_minidump_fixture.hpp), through the dump's own
// page-table section and direct map, in every container the kernel and
// savecore leave: facts.json's memory samples, fx_magic and linux_banner
// read back by virtual and by physical address.
#include "analyzer/arch/freebsd_minidump_arch.hpp"
#include "analyzer/arch/freebsd_minidump_paging.hpp"
#include "analyzer/arch/kernel_memory.hpp"
#include "capture/format/freebsd_minidump.hpp"
#include "capture/format/freebsd_msgbuf.hpp"
#include "tests/analyzer/arch/freebsd_minidump_fixture.hpp"

#include <catch2/catch.hpp>

using namespace coroner;
using namespace coroner::freebsd;
using namespace coroner::test;

namespace {

arch::Translation translate(const Minidump& dump, uint64_t vaddr) {
  return arch::translate_minidump(
      dump.header(), vaddr, [&](uint64_t index) { return dump.page_table_entry(index); },
      [&](uint64_t paddr) -> Expected<uint64_t> {
        uint64_t value = 0;
        CORONER_CHECK(dump.read(paddr, std::as_writable_bytes(std::span(&value, 1))));
        return value;
      });
}

// The fixture's minidump written as cache_dir()/freebsd-minidumps/NAME and opened.
std::unique_ptr<Dump> open_written(const FixtureMinidump& made, const std::string& name) {
  fs::path path = cache_dir() / "freebsd-minidumps" / name;
  fs::create_directories(path.parent_path());
  write_file_contents(path, write_minidump(made.contents));
  auto opened = open_dump({path.string()});
  REQUIRE(opened);
  return std::move(*opened);
}

}  // namespace

TEST_CASE("FreeBSD minidumps of the fixtures: virtual and physical reads match facts.json in every container",
          "[arch][freebsd][fixtures]") {
  setenv("CORONER_CACHE_DIR", (cache_dir() / "open-dump-cache").c_str(), 1);
  for (const MinidumpVariant& v : minidump_variants()) {
    const DumpCase& c = fixture_case(v.fixture);
    const FixtureMinidump& made = fixture_minidump(c, v.version);
    const std::string minidump = write_minidump(made.contents);
    fs::path dir = cache_dir() / "freebsd-minidumps" / fmt::format("{}-v{}", c.arch_dir, v.version);
    for (const auto& [name, path] : write_containers(dir, minidump, made.contents.header.arch)) {
      INFO(c.id << " as minidump v" << v.version << ", " << name);
      auto opened = open_dump({path});
      if (!opened) FAIL(opened.error().message());
      const auto& dump = dynamic_cast<const Minidump&>(**opened);
      CHECK(dump.header().version == v.version);
      CHECK(std::to_string(dump.page_size()) == c.facts()["vmcoreinfo"]["PAGESIZE"].get<std::string>());
      auto arch = arch::make_minidump_arch(dump);
      KernelMemory memory(dump, *arch);
      CHECK(arch->page_size() == dump.page_size());
      for (const MinidumpSample& s : made.samples) {
        INFO(s.what << " at " << fmt::format("{:#x}", s.vaddr));
        auto paddr = memory.to_physical(s.vaddr);
        if (!paddr) FAIL(paddr.error().message());
        CHECK(*paddr == s.paddr);
        std::vector<std::byte> bytes(s.length);
        auto read = memory.read(s.vaddr, bytes);
        if (!read) FAIL(read.error().message());
        CHECK(sha256_hex(bytes.data(), bytes.size()) == s.sha256);
        // The same bytes by physical address, where they lie in one page.
        if (s.paddr % dump.page_size() + s.length <= dump.page_size()) {
          std::vector<std::byte> physical(s.length);
          REQUIRE(dump.read(s.paddr, physical));
          CHECK(physical == bytes);
        }
        CHECK(translate(dump, s.vaddr).steps.empty() == (s.what == "direct-map"));
      }
      // The message buffer, unwrapped: it ends with the last line written.
      auto section = dump.message_buffer_section();
      REQUIRE(section);
      auto log = decode_message_buffer(*section, dump.header().msgbuf_size, name);
      REQUIRE(log);
      std::vector<std::string> written = lines_of(made.log_text);
      REQUIRE(log->lines.size() > 2);
      CHECK(log->lines.back() == written.back().substr(3));
      CHECK(log->lines[1] == written[written.size() - log->lines.size() + 1].substr(3));
      std::array<std::byte, 8> raw{};
      auto skipped = dump.read(made.not_dumped, raw);
      REQUIRE_FALSE(skipped);
      CHECK(skipped.error().code() == Errc::excluded_by_filter);
      if (dump.header().has_dump_avail()) {
        auto hole = dump.read(made.hole, raw);
        REQUIRE_FALSE(hole);
        CHECK(hole.error().code() == Errc::not_in_dump);
      }
    }
  }
}

TEST_CASE("FreeBSD minidump translation: the walk's steps and its refusals", "[arch][freebsd][fixtures]") {
  const DumpCase& c = fixture_case("x86_64/oops-kdump/d31");
  const FixtureMinidump& made = fixture_minidump(c, 3);
  const std::unique_ptr<Dump> opened = open_written(made, "steps-vmcore.0");
  const auto& dump = dynamic_cast<const Minidump&>(*opened);
  const auto& h = dump.header();
  // The module's text is mapped with 4K pages: a PDE from the section,
  // then the PTE in the dumped page-table page.
  for (const MinidumpSample& s : made.samples) {
    if (s.what != "module-text") continue;
    arch::Translation t = translate(dump, s.vaddr);
    REQUIRE(t.steps.size() == 2);
    CHECK(t.steps[0].level == "PDE");
    CHECK(t.steps[0].index == (s.vaddr - h.kernbase) >> 21);
    CHECK(t.steps[1].level == "PTE");
    CHECK(t.steps[1].table == (t.steps[0].entry & 0x000ffffffffff000ULL));
    CHECK(t.page_size == 4096);
  }
  // Below kernbase and outside the direct map; beyond the section.
  arch::Translation low = translate(dump, h.dmap_end + 0x1000);
  REQUIRE(low.error);
  CHECK(low.error->code() == Errc::not_mapped);
  CHECK(low.error->message().find("neither in the minidump's kernel map") != std::string::npos);
}

TEST_CASE("FreeBSD minidump translation on arm64: one L3 entry per page, the direct map first",
          "[arch][freebsd][fixtures]") {
  for (const char* id : {"arm64/oops-kdump/d31", "arm64-16k/oops-kdump/d31"}) {
    const DumpCase& c = fixture_case(id);
    const FixtureMinidump& made = fixture_minidump(c, 3);
    const std::unique_ptr<Dump> opened = open_written(made, fmt::format("steps-{}-vmcore.0", c.arch_dir));
    const auto& dump = dynamic_cast<const Minidump&>(*opened);
    const auto& h = dump.header();
    INFO(id);
    for (const MinidumpSample& s : made.samples) {
      arch::Translation t = translate(dump, s.vaddr);
      REQUIRE(t.paddr);
      CHECK(t.page_size == dump.page_size());
      if (s.what == "direct-map") {
        CHECK(t.steps.empty());
        CHECK(*t.paddr == s.vaddr - h.dmap_base + h.dmap_phys);
        continue;
      }
      REQUIRE(t.steps.size() == 1);
      CHECK(t.steps[0].level == "L3");
      CHECK(t.steps[0].index == (s.vaddr - h.kernbase) / dump.page_size());
    }
    arch::Translation beyond = translate(dump, h.kernbase + h.pmap_size / 8 * dump.page_size());
    REQUIRE(beyond.error);
    CHECK(beyond.error->code() == Errc::not_mapped);
  }
}
