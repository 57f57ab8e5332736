// `log` on the legacy log_buf of Linux 3.5 to 5.9, in each real layout
// (struct log, struct printk_log, with and without caller ids): a real
// x86_64 dump (makedumpfile -E) whose VMCOREINFO is rewritten to describe a
// legacy buffer instead of the lockless ring, and whose log buffer memory
// holds records laid out as log_store() lays them out
// (tests/analyzer/os/linux/printk_legacy_buffer.hpp). The command must show
// exactly those records.
#include "tests/analyzer/os/linux/printk_legacy_buffer.hpp"
#include "tests/commands/command_runner.hpp"
#include "tests/commands/guest_console.hpp"

#include <elf.h>

#include <cstring>
#include <fstream>

namespace coroner::test {

namespace {

constexpr uint32_t kBufferBytes = 4096;  // small, so that the records wrap

// A copy of an ELF dump to patch: physical addresses and the VMCOREINFO
// note, through its program headers.
class ElfDumpCopy {
 public:
  ElfDumpCopy(const std::string& source, const fs::path& copy) : path_(copy) {
    fs::copy_file(source, copy, fs::copy_options::overwrite_existing);
    file_.open(copy, std::ios::in | std::ios::out | std::ios::binary);
    Elf64_Ehdr header{};
    read(0, &header, sizeof header);
    REQUIRE(std::memcmp(header.e_ident, ELFMAG, SELFMAG) == 0);
    phdrs_.resize(header.e_phnum);
    read(header.e_phoff, phdrs_.data(), phdrs_.size() * sizeof(Elf64_Phdr));
  }

  // Bytes at a kernel virtual address, page by page.
  void write_virtual(const KernelMemory& memory, uint64_t vaddr, const void* data, size_t size) {
    const uint64_t page = memory.arch().page_size();
    for (size_t done = 0; done < size;) {
      size_t chunk = std::min<uint64_t>(size - done, page - (vaddr + done) % page);
      auto paddr = memory.to_physical(vaddr + done);
      if (!paddr) FAIL(paddr.error().message());
      write_physical(*paddr, static_cast<const char*>(data) + done, chunk);
      done += chunk;
    }
  }

  void write_physical(uint64_t paddr, const void* data, size_t size) {
    for (const Elf64_Phdr& p : phdrs_) {
      if (p.p_type == PT_LOAD && paddr >= p.p_paddr && paddr + size <= p.p_paddr + p.p_filesz) {
        write(p.p_offset + (paddr - p.p_paddr), data, size);
        return;
      }
    }
    FAIL(fmt::format("physical {:#x} is not in {}", paddr, path_.string()));
  }

  // Replaces the VMCOREINFO note's text, padded with empty lines to its size.
  void replace_vmcoreinfo(std::string text) {
    for (const Elf64_Phdr& p : phdrs_) {
      if (p.p_type != PT_NOTE) continue;
      for (uint64_t at = p.p_offset; at + sizeof(Elf64_Nhdr) <= p.p_offset + p.p_filesz;) {
        Elf64_Nhdr note{};
        read(at, &note, sizeof note);
        uint64_t name_at = at + sizeof note, desc_at = name_at + ((note.n_namesz + 3) & ~3u);
        std::string name(note.n_namesz, '\0');
        read(name_at, name.data(), name.size());
        if (name.starts_with("VMCOREINFO")) {
          REQUIRE(text.size() <= note.n_descsz);
          text.resize(note.n_descsz, '\n');
          write(desc_at, text.data(), text.size());
          return;
        }
        at = desc_at + ((note.n_descsz + 3) & ~3u);
      }
    }
    FAIL("no VMCOREINFO note in " << path_.string());
  }

 private:
  void read(uint64_t offset, void* out, size_t size) {
    file_.seekg(static_cast<std::streamoff>(offset));
    file_.read(static_cast<char*>(out), static_cast<std::streamsize>(size));
    REQUIRE(file_.good());
  }
  void write(uint64_t offset, const void* data, size_t size) {
    file_.seekp(static_cast<std::streamoff>(offset));
    file_.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    REQUIRE(file_.good());
  }

  fs::path path_;
  std::fstream file_;
  std::vector<Elf64_Phdr> phdrs_;
};

bool printk_key(const std::string& key) {
  return key == "SYMBOL(prb)" || key.find("printk_") != std::string::npos || key.find("prb_") != std::string::npos ||
         key.find("atomic_long_t") != std::string::npos;
}

// Records of a boot as a 4.x kernel logs them: multi-line records,
// dev_printk() dictionaries, a continuation fragment; enough to wrap.
LegacyLogBuffer legacy_buffer(const LegacyLayout& layout) {
  LegacyLogBuffer buf(layout, kBufferBytes);
  uint64_t ts = 0;
  buf.add("Linux version 4.18.0 (mockbuild@x86-vm-07) #1 SMP", "", ts);
  for (int i = 0; i < 70; ++i) {
    ts += 12345678;
    buf.add(fmt::format("e1000 0000:00:03.{}: eth{}: link up, record {}", i % 8, i, i),
            i % 3 ? std::string() : fmt::format("SUBSYSTEM=pci{}DEVICE=+pci:0000:00:03.{}", '\0', i % 8), ts);
  }
  buf.add("Call Trace:\n ? fx_crash_level3+0x11/0x20\n fx_write+0x2d/0x40", "", ts += 777);
  buf.add("Memory: 2048K available (", "", ts += 1);
  buf.add("1234K kernel code)", "", ts, true);
  buf.add("Kernel panic - not syncing: Fatal exception", "", ts += 999999);
  return buf;
}

// The text crash's log writes for a record, built here from first principles.
std::string expected_line(const linux_kernel::LogRecord& r, const std::string& prefix, bool devices) {
  std::string text;
  for (char c : r.text) text += c == '\n' ? "\n" + std::string(prefix.size(), ' ') : std::string(1, c);
  std::string line = prefix + text;
  if (devices && !r.subsystem.empty()) line += "\n" + std::string(prefix.size(), ' ') + "SUBSYSTEM=" + r.subsystem;
  if (devices && !r.device.empty()) line += "\n" + std::string(prefix.size(), ' ') + "DEVICE=" + r.device;
  return line + "\n";
}

}  // namespace

TEST_CASE("log reads each real layout of the legacy log_buf from a dump", "[log][printk]") {
  const DumpCase& source = fixture_case("x86_64/oops-kdump/elf-d31");
  auto layout = GENERATE(from_range(real_legacy_layouts()));
  INFO(layout.kernel);

  // Where the buffer goes: the kernel's own log_buf (its pointer still
  // points at __log_buf), with the indexes and a shorter length stored in
  // the first descriptor of the lockless ring, unused once VMCOREINFO no
  // longer names it.
  CommandRunner original(source);
  const Program& program = original.program();
  uint64_t log_buf = *program.symbol_address("log_buf");
  uint64_t buffer = *program.memory().read_u64(log_buf);
  uint64_t scratch = *program.symbol_address("_printk_rb_static_descs");
  uint64_t first_idx = scratch, next_idx = scratch + 4, buf_len = scratch + 8;

  LegacyLogBuffer buf = legacy_buffer(layout);
  REQUIRE(buf.live().front().idx > buf.live().back().idx);  // it wrapped
  fs::path copy = cache_dir() / fmt::format("log-legacy-{}-{}-{}.elf", layout.type, layout.header, getpid());
  {
    ElfDumpCopy dump(source.files().front(), copy);
    std::string info;
    for (const auto& [key, value] : program.vmcoreinfo().entries())
      if (!printk_key(key)) info += fmt::format("{}={}\n", key, value);
    info += legacy_vmcoreinfo(layout, log_buf, buf_len, first_idx, next_idx);
    dump.replace_vmcoreinfo(info);
    dump.write_virtual(program.memory(), buffer, buf.bytes().data(), buf.bytes().size());
    uint32_t indexes[3] = {buf.first_index(), buf.next_index(), kBufferBytes};
    dump.write_virtual(program.memory(), scratch, indexes, sizeof indexes);
  }

  ProgramOptions options = program_options(source);
  options.dumps = {copy.string()};
  CommandRunner run(options, copy.string());
  std::vector<linux_kernel::LogRecord> want = buf.live_records();

  std::string plain, levels, devices, bare, callers;
  for (const linux_kernel::LogRecord& r : want) {
    std::string stamp = fmt::format("[{:5}.{:06}] ", r.ts_nsec / 1000000000, r.ts_nsec % 1000000000 / 1000);
    plain += expected_line(r, stamp, false);
    levels += expected_line(r, stamp + fmt::format("<{}>", r.level), false);
    devices += expected_line(r, stamp, true);
    bare += expected_line(r, "", false);
    // pid_max is 32768 in this kernel: a 6-character caller column.
    std::string caller = r.caller_id ? fmt::format("[{:>6}] ", (*r.caller_id & linux_kernel::kCallerCpu ? "C" : "T") +
                                                                   std::to_string(*r.caller_id & ~linux_kernel::kCallerCpu))
                                     : "";
    callers += expected_line(r, stamp + caller, false);
  }
  CHECK(run.text("log") == plain);
  CHECK(run.text("log -m") == levels);
  CHECK(run.text("log -d") == devices);
  CHECK(run.text("log -t") == bare);
  CHECK(run.text("log -c") == callers);

  nlohmann::json log = run.json("log");
  CHECK(log["skipped"].empty());
  REQUIRE(log["records"].size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const nlohmann::json& r = log["records"][i];
    INFO("record " << i);
    CHECK(r["seq"] == i);
    CHECK(r["text"] == want[i].text);
    CHECK(r["level"] == want[i].level);
    CHECK(r["facility"] == want[i].facility);
    CHECK(r["continuation"] == want[i].continuation);
    CHECK(r["subsystem"] == want[i].subsystem);
    CHECK(r["device"] == want[i].device);
    CHECK(r["caller"].is_null() == !layout.caller_id);
  }
  // The panic message comes from the legacy buffer too.
  CHECK(run.json("sys")["panic"] == "Kernel panic - not syncing: Fatal exception");
  fs::remove(copy);
}

}  // namespace coroner::test
