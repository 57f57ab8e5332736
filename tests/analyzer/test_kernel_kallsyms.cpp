// kallsyms decoded out of every fixture dump against vmlinux's ELF symbol
// table. The rule: every decoded (name, address) pair is a symbol of vmlinux
// at that address after the KASLR slide (x86_64's per-CPU offsets unmoved),
// with nm's type letter (but 'A' for x86_64's per-CPU offsets, and '?' where
// binutils' nm could not classify a symbol: x86_64's __nosave_begin/_end,
// 'N' in coroner's table); and every function and data object of vmlinux
// (STT_FUNC, STT_OBJECT with a text/data letter) is among them.
// Module symbols (fx_crash_level3) are not: modules keep their own.
#include "analyzer/kernel_kallsyms.hpp"
#include "tests/support/program_fixture.hpp"

#include <map>
#include <set>
#include <sstream>

namespace coroner::test {

namespace {

std::vector<const DumpCase*> kallsyms_dumps() {
  std::vector<const DumpCase*> dumps;
  for (const DumpCase& c : all_dumps())
    if ((c.scenario.starts_with("oops-kdump") && c.variant == "d31") ||
        (c.scenario == "panic-qemu" && c.variant == "kdump-zlib"))
      dumps.push_back(&c);
  return dumps;
}

}  // namespace

TEST_CASE("kallsyms read from the dump equal vmlinux's symbols", "[kallsyms]") {
  for (const DumpCase* dump : kallsyms_dumps()) {
    SECTION(dump->id) {
      auto program = open_program(*dump);
      auto kallsyms = read_kernel_kallsyms(program->vmcoreinfo(), program->memory());
      if (!kallsyms) FAIL(kallsyms.error().message());
      auto elf = program->symbol_table();
      REQUIRE(elf.has_value());

      // x86_64's kallsyms stores its per-CPU offsets as absolute values
      // (--absolute-percpu), typed 'A'.
      const bool absolute_percpu = (*elf)->find("__per_cpu_start")->address == 0;
      std::map<std::pair<std::string, uint64_t>, char> linked;
      for (const symbols::Symbol& s : (*elf)->by_address()) linked.emplace(std::pair(s.name, s.address), s.type);
      size_t unmatched = 0, wrong_type = 0;
      std::ostringstream problems;  // the first few of each kind
      std::set<std::pair<std::string, uint64_t>> decoded;
      for (const symbols::Symbol& s : kallsyms->by_address()) {
        decoded.emplace(s.name, s.address);
        auto found = linked.find({s.name, s.address});
        if (found == linked.end()) {
          if (++unmatched <= 5) problems << "not in vmlinux: " << s.name << " at " << std::hex << s.address << '\n';
        } else if (found->second != s.type && !(absolute_percpu && s.type == 'A') && s.type != '?' &&
                   ++wrong_type <= 5) {
          problems << s.name << ": type " << s.type << ", vmlinux says " << found->second << '\n';
        }
      }
      size_t missing = 0, kept = 0;
      for (const symbols::Symbol& s : (*elf)->by_address()) {
        if (!(s.is_function || s.is_object) || !symbols::is_text_or_data(s.type)) continue;
        ++kept;
        if (!decoded.contains({s.name, s.address}) && ++missing <= 5)
          problems << "not in kallsyms: " << s.name << " at " << std::hex << s.address << '\n';
      }
      INFO(problems.str());
      CHECK(unmatched == 0);
      CHECK(wrong_type == 0);
      CHECK(missing == 0);
      CHECK(kept > 20000);
      CHECK(kallsyms->by_address().size() >= kept);

      // drgn's run-time addresses, where facts.json has them.
      const nlohmann::json& facts = dump->facts();
      for (const std::string name : {"panic", "init_task", "jiffies", "_stext", "linux_banner"}) {
        const symbols::Symbol* s = kallsyms->find(name);
        REQUIRE(s != nullptr);
        if (facts.contains("symbols")) CHECK(s->address == hex_value(facts["symbols"][name]));
      }
      CHECK(kallsyms->find("fx_crash_level3") == nullptr);
      CHECK(kallsyms->find("fx_magic") == nullptr);
      // Sizes run to the next symbol: panic's is at least its ELF size.
      const symbols::Symbol* panic = kallsyms->find("panic");
      CHECK(panic->size >= (*elf)->find("panic")->size);
      CHECK(panic->type == 'T');
    }
  }
}

TEST_CASE("kallsyms of a kernel without the VMCOREINFO entries: one line naming Linux 6.0", "[kallsyms]") {
  VmcoreInfo info = VmcoreInfo::parse("OSRELEASE=5.15.0\nSYMBOL(_stext)=ffffffff81000000\n");
  auto tables = kallsyms_tables(info);
  REQUIRE_FALSE(tables.has_value());
  CHECK(tables.error().message() ==
        "kallsyms: VMCOREINFO has no SYMBOL(kallsyms_names): the kernel (5.15.0) is older than Linux 6.0");
}

// A kernel before 6.0 writes no SYMBOL(kallsyms_*): the tables found by
// scanning the image give the symbols VMCOREINFO's entries give.
TEST_CASE("kallsyms found by scanning the image equal those VMCOREINFO locates", "[kallsyms]") {
  for (const DumpCase* dump : kallsyms_dumps()) {
    SECTION(dump->id) {
      auto program = open_program(*dump);
      std::string text;
      for (const auto& [key, value] : program->vmcoreinfo().entries())
        if (!key.starts_with("SYMBOL(kallsyms_")) text += key + "=" + value + "\n";
      const VmcoreInfo old_kernel = VmcoreInfo::parse(text);
      REQUIRE_FALSE(old_kernel.symbol("kallsyms_names"));
      auto scanned = read_kernel_kallsyms(old_kernel, program->memory());
      if (!scanned) FAIL(scanned.error().message());
      auto located = read_kernel_kallsyms(program->vmcoreinfo(), program->memory());
      REQUIRE(located.has_value());
      REQUIRE(scanned->by_address().size() == located->by_address().size());
      size_t differ = 0;
      for (size_t i = 0; i < located->by_address().size(); ++i) {
        const symbols::Symbol &a = scanned->by_address()[i], &b = located->by_address()[i];
        differ += a.name != b.name || a.address != b.address || a.type != b.type;
      }
      CHECK(differ == 0);
    }
  }
}

}  // namespace coroner::test
