// Hostile copies of every fixture dump file (the ELF vmcores and QEMU ELF
// dumps, the kdump-compressed d31 and kdump-zlib files): loops written into
// the task and module lists, a printk descriptor with a bad text position,
// a page-table entry sent beyond RAM, damaged kdump headers and page
// descriptors, damaged ELF program headers. Each time coroner must answer
// what is still readable -- the same as from the intact dump -- and say
// what it could not read, in one line; never crash, hang, or give other
// bytes than the dump's. docs/reliability.md tables the faults.
#include "capture/format/kdump_header.hpp"
#include "tests/commands/command_runner.hpp"
#include "tests/commands/dump_editor.hpp"

#include <set>

namespace coroner::test {

namespace {

bool is_fixture_file(const DumpCase& dump) {
  return dump.variant == "vmcore" || dump.variant == "elf" || dump.variant == "d31" || dump.variant == "kdump-zlib";
}

std::string tag_of(const DumpCase& dump) { return dump.arch_dir + "-" + dump.scenario + "-" + dump.variant; }

uint64_t offset_of(const Program& program, std::string_view type, std::string_view member) {
  auto offset = program.member_offset(type, member);
  REQUIRE(offset);
  return *offset;
}

uint64_t symbol(const Program& program, std::string_view name) {
  auto address = program.symbol_address(name);
  REQUIRE(address);
  return *address;
}

std::set<std::string> task_addresses(const nlohmann::json& ps) {
  std::set<std::string> out;
  for (const auto& row : ps["tasks"]) out.insert(row["task"].get<std::string>());
  return out;
}

std::string joined(const nlohmann::json& lines) {
  std::string out;
  for (const auto& line : lines) out += line.get<std::string>() + "\n";
  return out;
}

// Every memory sample of facts.json either reads as its true bytes or
// fails; never other bytes.
void check_samples_true_or_failing(CommandRunner& run, const DumpCase& dump, size_t& failed) {
  if (!dump.facts().contains("memory_samples")) return;
  for (const auto& sample : dump.facts()["memory_samples"]) {
    std::vector<std::byte> raw(64);
    auto read = run.program().memory().read(hex_value(sample["vaddr"]), raw);
    if (!read) {
      ++failed;
      CHECK(read.error().message().find('\n') == std::string::npos);
      continue;
    }
    INFO("sample at " << sample["vaddr"].get<std::string>());
    CHECK(sha256_hex(raw.data(), raw.size()) == sample["sha256"].get<std::string>());
  }
}

// The damaged copy at `path` either does not open -- a one-line error
// naming it -- or reads every sample true or not at all.
void check_open_fails_or_reads_true(const DumpCase& dump, const std::string& path, const std::string& what) {
  ProgramOptions options = program_options(dump);
  options.dumps = {path};
  auto program = Program::open(options);
  if (!program) {
    CHECK_THAT(program.error().message(), Catch::Contains(path));
    CHECK(program.error().message().find('\n') == std::string::npos);
    return;
  }
  CommandRunner run(options, dump.id + " with " + what);
  size_t failed = 0;
  check_samples_true_or_failing(run, dump, failed);
}

}  // namespace

TEST_CASE("hostile dumps: loops in the task and module lists, a bad printk record", "[hostile][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    if (!is_fixture_file(dump)) continue;
    SECTION(dump.id) {
      CommandRunner intact(dump);
      const Program& program = intact.program();
      const nlohmann::json ps = intact.json("ps"), mod = intact.json("mod"), log = intact.json("log");
      REQUIRE(mod["modules"].size() == 1);
      DumpEditor editor(dump, program);

      // The task list: the fifth task's next points back to the third.
      const uint64_t tasks = offset_of(program, "struct task_struct", "tasks");
      std::vector<uint64_t> links = {symbol(program, "init_task") + tasks};
      while (links.size() < 6) links.push_back(editor.read_u64(links.back()));
      editor.write_u64(links[5], links[3]);

      // The module list: fx_crash's next points to itself.
      const uint64_t fx_list = hex_value(mod["modules"][0]["module"]) + offset_of(program, "struct module", "list");
      editor.write_u64(fx_list, fx_list);

      // A recent printk record: its text position made misaligned.
      const uint64_t ring = editor.read_u64(symbol(program, "prb")) +
                            offset_of(program, "struct printk_ringbuffer", "desc_ring");
      const uint64_t count_bits = editor.read_u64(ring + offset_of(program, "struct prb_desc_ring", "count_bits")) & 0xff;
      const uint64_t descs = editor.read_u64(ring + offset_of(program, "struct prb_desc_ring", "descs"));
      const uint64_t head_id = editor.read_u64(ring + offset_of(program, "struct prb_desc_ring", "head_id"));
      const uint64_t victim = head_id - 3;
      auto desc_size = program.type_size("struct prb_desc");
      REQUIRE(desc_size);
      const uint64_t lpos = descs + (victim % (uint64_t(1) << count_bits)) * *desc_size +
                            offset_of(program, "struct prb_desc", "text_blk_lpos") +
                            offset_of(program, "struct prb_data_blk_lpos", "begin");
      editor.write_u64(lpos, editor.read_u64(lpos) + 3);

      ProgramOptions options = program_options(dump);
      options.dumps = {editor.save("hostile-lists-" + tag_of(dump))};
      CommandRunner run(options, dump.id + " with looping lists");

      // ps: every task, found backward past the loop, and the loop named.
      const nlohmann::json damaged_ps = run.json("ps");
      CHECK(task_addresses(damaged_ps) == task_addresses(ps));
      REQUIRE(damaged_ps.contains("skipped"));
      CHECK_THAT(joined(damaged_ps["skipped"]),
                 Catch::Contains(fmt::format("list_head {:#x} points back to {:#x}, reached before (a loop)", links[5],
                                             links[3])));
      CHECK_THAT(run.text("ps"), Catch::StartsWith("WARNING: "));

      // mod: fx_crash, and the loop after it.
      const nlohmann::json damaged_mod = run.json("mod");
      REQUIRE(damaged_mod["modules"].size() == 1);
      CHECK(damaged_mod["modules"][0]["name"] == "fx_crash");
      REQUIRE(damaged_mod.contains("errors"));
      CHECK_THAT(joined(damaged_mod["errors"]), Catch::Contains("(a loop)"));
      CHECK_THAT(run.text("mod"), Catch::StartsWith("WARNING: module list: "));
      // Its symbols still resolve.
      CHECK_THAT(run.text("sym fx_crash_level3"), Catch::Contains("[fx_crash]"));

      // log: every record but the damaged one, which is named.
      const nlohmann::json damaged_log = run.json("log");
      CHECK(damaged_log["records"].size() + 1 == log["records"].size());
      REQUIRE(damaged_log["skipped"].size() == 1);
      CHECK_THAT(damaged_log["skipped"][0].get<std::string>(),
                 Catch::Contains(fmt::format("descriptor id {:#x}", victim)) && Catch::Contains("invalid text block"));
    }
  }
}

TEST_CASE("hostile dumps: a page-table entry sent beyond RAM costs that page only", "[hostile][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    if (!is_fixture_file(dump)) continue;
    SECTION(dump.id) {
      CommandRunner intact(dump);
      const nlohmann::json mod = intact.json("mod");
      const std::string base = mod["modules"][0]["base"];
      const nlohmann::json walk = intact.json("vtop " + base);
      REQUIRE(walk["paddr"].is_string());
      const nlohmann::json& last = walk["levels"].back();
      DumpEditor editor(dump, intact.program());
      // The leaf entry's output address (bits 12/14..47 on both
      // architectures) replaced by 16 TiB, its flags kept.
      constexpr uint64_t kBeyond = 0xfff00000000;
      const uint64_t entry = (hex_value(last["entry"]) & ~uint64_t(0x0000fffffffff000)) | kBeyond;
      const uint64_t paddr = hex_value(last["entry_addr"]);
      editor.write_physical(paddr, std::as_bytes(std::span(&entry, 1)));

      ProgramOptions options = program_options(dump);
      options.dumps = {editor.save("hostile-pte-" + tag_of(dump))};
      CommandRunner run(options, dump.id + " with a page-table entry beyond RAM");
      const std::string error = run.failure("rd " + base);
      CHECK_THAT(error, Catch::Contains("0xfff00000000"));
      CHECK(error.find('\n') == std::string::npos);
      // The module's struct, symbols and the rest of memory are intact.
      CHECK(run.json("mod")["modules"][0]["name"] == "fx_crash");
      CHECK_THAT(run.text("sym fx_crash_level3"), Catch::Contains("[fx_crash]"));
      size_t failed = 0;
      check_samples_true_or_failing(run, dump, failed);
      CHECK(failed <= 1);  // the module sample, when it is on that page
    }
  }
}

TEST_CASE("hostile dumps: damaged kdump headers and page descriptors", "[hostile][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    if (dump.variant != "d31" && dump.variant != "kdump-zlib") continue;
    SECTION(dump.id) {
      CommandRunner intact(dump);
      DumpEditor editor(dump, intact.program());
      const kdump::DiskDumpHeader header = editor.kdump_header();
      const std::vector<char> pristine = editor.bytes();

      // Header fields a hostile file may set: each gives an error naming the
      // file, or a dump whose reads are true or fail.
      struct Case {
        const char* what;
        void (*change)(kdump::DiskDumpHeader&);
      };
      const Case cases[] = {
          {"block_size 0", [](kdump::DiskDumpHeader& h) { h.block_size = 0; }},
          {"block_size 3", [](kdump::DiskDumpHeader& h) { h.block_size = 3; }},
          {"block_size 1 GiB", [](kdump::DiskDumpHeader& h) { h.block_size = 1 << 30; }},
          {"negative block_size", [](kdump::DiskDumpHeader& h) { h.block_size = -4096; }},
          {"sub_hdr_size huge", [](kdump::DiskDumpHeader& h) { h.sub_hdr_size = 0x7fffffff; }},
          {"bitmap_blocks huge", [](kdump::DiskDumpHeader& h) { h.bitmap_blocks = 0x7fffffff; }},
          {"bitmap_blocks 0", [](kdump::DiskDumpHeader& h) { h.bitmap_blocks = 0; }},
          {"max_mapnr huge", [](kdump::DiskDumpHeader& h) { h.max_mapnr = 0xffffffff; }},
          {"nr_cpus huge", [](kdump::DiskDumpHeader& h) { h.nr_cpus = 0x7fffffff; }},
          {"header_version 99", [](kdump::DiskDumpHeader& h) { h.header_version = 99; }},
      };
      for (const Case& c : cases) {
        INFO(c.what);
        kdump::DiskDumpHeader changed = header;
        c.change(changed);
        editor.bytes() = pristine;
        const auto encoded = kdump::encode_disk_dump_header(changed);
        std::memcpy(editor.bytes().data(), encoded.data(), encoded.size());
        check_open_fails_or_reads_true(dump, editor.save("hostile-header-" + tag_of(dump)), c.what);
      }

      // One bit of the dumpable bitmap set or cleared: the open fails (every
      // page after it would take its neighbour's descriptor).
      const uint64_t bitmap2 = kdump::bitmap_offset(header) + kdump::bitmap_size(header);
      uint64_t clear_at = bitmap2, set_at = bitmap2;
      while (static_cast<uint8_t>(pristine[clear_at]) == 0) ++clear_at;
      while (static_cast<uint8_t>(pristine[set_at]) == 0xff) ++set_at;
      for (auto [at, flip] : {std::pair{clear_at, std::countr_zero(static_cast<uint8_t>(pristine[clear_at]))},
                              std::pair{set_at, std::countr_one(static_cast<uint8_t>(pristine[set_at]))}}) {
        editor.bytes() = pristine;
        editor.bytes()[at] = static_cast<char>(editor.bytes()[at] ^ (1 << flip));
        ProgramOptions options = program_options(dump);
        const std::string path = editor.save("hostile-bitmap-" + tag_of(dump));
        options.dumps = {path};
        auto program = Program::open(options);
        REQUIRE_FALSE(program);
        CHECK_THAT(program.error().message(), Catch::Contains(path) && Catch::Contains("dumpable-page bitmap"));
      }

      // Page descriptors of the memory samples' pages: a size beyond the
      // block, an offset beyond the end of the file, a flipped byte in the
      // compressed data. Those reads fail naming the page; the rest are true.
      if (!dump.facts().contains("memory_samples")) return;
      editor.bytes() = pristine;
      const uint64_t block = static_cast<uint32_t>(header.block_size);
      std::vector<uint64_t> pfns;
      for (const auto& sample : dump.facts()["memory_samples"]) {
        auto physical = intact.program().memory().to_physical(hex_value(sample["vaddr"]));
        REQUIRE(physical);
        pfns.push_back(*physical / block);
      }
      REQUIRE(pfns.size() >= 4);
      auto descriptor = [&](uint64_t pfn) {
        auto desc = kdump::decode_page_desc(
            std::as_bytes(std::span(editor.bytes().data() + editor.descriptor_offset(pfn), kdump::kPageDescSize)));
        REQUIRE(desc);
        return *desc;
      };
      auto store = [&](uint64_t pfn, const kdump::PageDesc& desc) {
        const auto encoded = kdump::encode_page_desc(desc);
        std::memcpy(editor.bytes().data() + editor.descriptor_offset(pfn), encoded.data(), encoded.size());
      };
      kdump::PageDesc d0 = descriptor(pfns[0]);
      d0.size = static_cast<uint32_t>(block * 2);
      store(pfns[0], d0);
      kdump::PageDesc d1 = descriptor(pfns[1]);
      d1.offset = editor.bytes().size() + 4096;
      store(pfns[1], d1);
      const kdump::PageDesc d2 = descriptor(pfns[2]);
      REQUIRE(d2.flags != 0);  // compressed
      editor.bytes()[d2.offset + d2.size / 2] ^= 0x5a;
      ProgramOptions options = program_options(dump);
      options.dumps = {editor.save("hostile-descriptors-" + tag_of(dump))};
      CommandRunner run(options, dump.id + " with damaged page descriptors");
      const auto& samples = dump.facts()["memory_samples"];
      for (size_t i = 0; i < 3; ++i) {
        auto physical = intact.program().memory().to_physical(hex_value(samples[i]["vaddr"]));
        REQUIRE(physical);
        const std::string error = run.failure("rd " + samples[i]["vaddr"].get<std::string>());
        INFO(error);
        CHECK(error.find('\n') == std::string::npos);
        CHECK_THAT(error, Catch::Contains(options.dumps.front()) &&
                              Catch::Contains(fmt::format("physical address {:#x}", *physical)));
      }
      // The other samples read true (two samples may share a damaged page).
      size_t failed = 0;
      check_samples_true_or_failing(run, dump, failed);
      std::set<uint64_t> damaged_pages(pfns.begin(), pfns.begin() + 3);
      CHECK(failed == static_cast<size_t>(std::count_if(pfns.begin(), pfns.end(), [&](uint64_t pfn) {
              return damaged_pages.count(pfn) > 0;
            })));
    }
  }
}

TEST_CASE("hostile dumps: damaged ELF program headers", "[hostile][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    if (dump.variant != "vmcore" && dump.variant != "elf") continue;
    SECTION(dump.id) {
      CommandRunner intact(dump);
      DumpEditor editor(dump, intact.program());
      Elf64_Ehdr eh;
      std::memcpy(&eh, editor.bytes().data(), sizeof eh);
      const std::string path = editor.save("hostile-elf-" + tag_of(dump));
      // Only the headers change: the copy is patched in place each time.
      auto patch = [&](uint64_t offset, const void* data, size_t size) {
        std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
        file.seekp(static_cast<std::streamoff>(offset));
        file.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
      };
      const std::vector<char> header(editor.bytes().begin(),
                                     editor.bytes().begin() + static_cast<std::ptrdiff_t>(eh.e_phoff + eh.e_phnum * sizeof(Elf64_Phdr)));
      unsigned first_load = 0;
      for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph;
        std::memcpy(&ph, header.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_LOAD) {
          first_load = i;
          break;
        }
      }
      const uint64_t load_at = eh.e_phoff + first_load * sizeof(Elf64_Phdr);
      const uint64_t size = editor.bytes().size();
      struct Case {
        std::string what;
        uint64_t offset;
        uint64_t value;
        size_t width;
      };
      const std::vector<Case> cases = {
          {"e_phnum 0xffff", offsetof(Elf64_Ehdr, e_phnum), 0xffff, 2},
          {"e_phoff beyond the file", offsetof(Elf64_Ehdr, e_phoff), size + 1, 8},
          {"e_phentsize 1", offsetof(Elf64_Ehdr, e_phentsize), 1, 2},
          {"p_offset beyond the file", load_at + offsetof(Elf64_Phdr, p_offset), size * 2, 8},
          {"p_filesz huge", load_at + offsetof(Elf64_Phdr, p_filesz), uint64_t(1) << 62, 8},
          {"p_paddr wraps", load_at + offsetof(Elf64_Phdr, p_paddr), ~uint64_t(0) - 4095, 8},
      };
      for (const Case& c : cases) {
        INFO(c.what);
        patch(0, header.data(), header.size());
        patch(c.offset, &c.value, c.width);
        check_open_fails_or_reads_true(dump, path, c.what);
      }
    }
  }
}

}  // namespace coroner::test

namespace coroner::test {

TEST_CASE("hostile vmlinux: invalid ORC entries end a backtrace with the reason, never a made-up frame",
          "[hostile][bt]") {
  const DumpCase& dump = fixture_case("x86_64/oops-kdump/d31");
  CommandRunner intact(dump);
  const std::vector<std::string> good = lines_of(intact.text("bt 1"));
  REQUIRE(good.size() > 4);

  // A copy of vmlinux whose .orc_unwind is all 0xff: each entry names no
  // valid register and an unknown type.
  std::string image = file_contents(dump.vmlinux());
  const std::string sections = run_command("readelf -SW " + dump.vmlinux() + " | grep ' .orc_unwind '");
  std::istringstream fields(sections.substr(sections.find(".orc_unwind ")));
  std::string name, type, address, offset, size;
  fields >> name >> type >> address >> offset >> size;
  REQUIRE(name == ".orc_unwind");
  const uint64_t at = std::stoull(offset, nullptr, 16), length = std::stoull(size, nullptr, 16);
  REQUIRE(at + length <= image.size());
  std::fill(image.begin() + static_cast<std::ptrdiff_t>(at), image.begin() + static_cast<std::ptrdiff_t>(at + length),
            '\xff');
  const fs::path dir = cache_dir() / "hostile-orc";
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_file_contents(dir / "vmlinux", image);

  ProgramOptions options = program_options(dump);
  options.vmlinux = (dir / "vmlinux").string();
  options.cache_dir = (dir / "cache").string();  // not the intact vmlinux's caches (same build-id)
  CommandRunner run(options, "d31 with a vmlinux of invalid ORC entries");
  const std::vector<std::string> bad = lines_of(run.text("bt 1"));
  INFO("intact:\n" << intact.text("bt 1") << "damaged:\n" << run.text("bt 1"));
  // The frames up to the first step that needs vmlinux's ORC (the
  // module's own come from fx_crash.ko) are as before; no frame after it is
  // made up: the trace ends with the reason ("ORC entry of ADDRESS: ...").
  REQUIRE(bad.size() >= 2);
  CHECK(bad[0] == good[0]);
  size_t same = 1;
  while (same < bad.size() && same < good.size() && bad[same] == good[same]) ++same;
  REQUIRE(same < bad.size());
  for (size_t i = same; i < bad.size(); ++i) CHECK_FALSE(bad[i].starts_with(" #"));
  CHECK_THAT(bad.back(), Catch::Contains("ORC"));
}

}  // namespace coroner::test
