// vm: a task's address space as crash's vm [-p | -m] [PID | TASK ...]: the
// mm_struct's MM PGD RSS TOTAL_VM, then each VMA (VMA START END FLAGS FILE);
// -p adds each page's physical address, -m prints the mm_struct.
#include "analyzer/os/linux/address_space_map.hpp"
#include "analyzer/os/linux/open_files.hpp"
#include "analyzer/os/linux/task_memory.hpp"
#include "commands/builtin.hpp"
#include "commands/task_output.hpp"
#include "commands/task_selection.hpp"

#include <ostream>
#include <sstream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "vm [-p | -m] [PID | TASK ...]";

struct VmRequest {
  bool pages = false;      // -p
  bool mm_struct = false;  // -m
  std::vector<std::string> tasks;
};

Expected<VmRequest> parse_request(const Arguments& args) {
  VmRequest request;
  for (const std::string& word : args) {
    if (word.size() < 2 || word[0] != '-') {
      request.tasks.push_back(word);
      continue;
    }
    for (char option : word.substr(1)) {
      if (option == 'p') request.pages = true;
      else if (option == 'm') request.mm_struct = true;
      else return make_error(Errc::invalid_argument, "unknown option -{} (usage: {})", option, kUsage);
    }
  }
  if (request.pages && request.mm_struct)
    return make_error(Errc::invalid_argument, "-p and -m exclude each other (usage: {})", kUsage);
  return request;
}

// What one page of a VMA maps to (crash's vm -p line after VIRTUAL).
struct PageMapping {
  uint64_t vaddr = 0;
  std::optional<uint64_t> physical;
  std::optional<uint64_t> swap_entry;  // a non-present, non-zero PTE
  std::optional<uint64_t> file_offset;  // not present, backed by the VMA's file
};

struct VmaView {
  linux_kernel::Vma vma;
  std::string file;  // its path, "" when anonymous
  std::vector<PageMapping> pages;
};

// The MM line: for a task without an mm_struct (a kernel thread) all zero.
struct MemoryFigures {
  uint64_t mm = 0, pgd = 0;  // pgd: virtual, as crash
  uint64_t rss_pages = 0, total_vm_pages = 0;
};

struct TaskVm {
  linux_kernel::Task task;
  MemoryFigures figures;
  std::vector<VmaView> vmas;
  std::optional<nlohmann::json> mm_struct_json;    // -m with --output json
  std::string mm_struct_text;                      // -m
  std::vector<std::string> problems;               // what could not be read
};

std::vector<PageMapping> page_mappings(const Program& program, uint64_t root, const VmaView& view) {
  std::vector<PageMapping> pages;
  const uint64_t page_size = program.arch().page_size();
  for (uint64_t vaddr = view.vma.start; vaddr < view.vma.end; vaddr += page_size) {
    PageMapping page;
    page.vaddr = vaddr;
    arch::Translation t = program.memory().translate(vaddr, root);
    if (t.paddr) page.physical = *t.paddr;
    else if (!t.steps.empty() && t.steps.back().entry != 0) page.swap_entry = t.steps.back().entry;
    else if (view.vma.file && !view.file.empty())
      page.file_offset = (vaddr - view.vma.start) + view.vma.pgoff * page_size;
    pages.push_back(page);
  }
  return pages;
}

Expected<MemoryFigures> memory_figures(const Program& program, const linux_kernel::Task& task) {
  MemoryFigures figures;
  if (task.mm == 0) return figures;
  CORONER_TRY(tasks, linux_kernel::task_list(program));
  CORONER_TRY(memory, linux_kernel::task_memory(program, task, *tasks));
  CORONER_TRY(pgd, linux_kernel::page_table_address(program, task.mm));
  figures.mm = task.mm, figures.pgd = pgd;
  figures.rss_pages = memory.rss_pages, figures.total_vm_pages = memory.total_vm_pages;
  return figures;
}

// struct mm_struct ADDR, through the struct command.
Expected<void> mm_struct_of(CommandContext& ctx, uint64_t mm, TaskVm& result) {
  std::ostringstream buffer;
  CommandContext sub{ctx.program, ctx.format, buffer, ctx.current_pid, ctx.current_task};
  CORONER_CHECK(run_command_line(sub, fmt::format("struct mm_struct {:#x}", mm)));
  if (ctx.json()) result.mm_struct_json = nlohmann::json::parse(buffer.str());
  else result.mm_struct_text = buffer.str();
  return {};
}

Expected<TaskVm> task_vm(CommandContext& ctx, const linux_kernel::Task& task, const VmRequest& request) {
  const Program& program = ctx.program;
  TaskVm result;
  result.task = task;
  if (task.mm == 0) return result;
  auto figures = memory_figures(program, task);
  if (!figures) return figures.error().context(fmt::format("mm_struct {:#x} of PID {}", task.mm, task.pid));
  result.figures = *figures;
  if (request.mm_struct) {
    CORONER_CHECK(mm_struct_of(ctx, task.mm, result));
    return result;
  }
  CORONER_TRY(list, linux_kernel::list_vmas(program, task.mm));
  if (list.stopped) result.problems.push_back(list.stopped->message());
  std::optional<uint64_t> root;
  if (request.pages) {
    auto pgd = linux_kernel::user_page_table_root(program, task);
    if (pgd) root = *pgd;
    else result.problems.push_back(pgd.error().message());
  }
  for (const linux_kernel::Vma& vma : list.vmas) {
    VmaView view{vma, {}, {}};
    if (vma.file) {
      auto path = linux_kernel::file_path(program, vma.file);
      if (path) view.file = *path;
      else result.problems.push_back(path.error().context(fmt::format("file of VMA {:#x}", vma.address)).message());
    }
    if (root) view.pages = page_mappings(program, *root, view);
    result.vmas.push_back(std::move(view));
  }
  return result;
}

// crash's columns: VMA centred in 16, START and END right-aligned in 10.
constexpr std::string_view kMmHeader = "       MM               PGD          RSS    TOTAL_VM\n";
constexpr std::string_view kVmaHeader = "      VMA           START      END     FLAGS FILE\n";

std::string centered(const std::string& text, size_t width) { return fmt::format("{:^{}}", text, width); }

size_t physical_width(const Program& program) {
  auto ranges = program.dump().ranges();
  uint64_t top = ranges.empty() ? 0 : ranges.back().end();
  return std::max<size_t>(fmt::format("{:x}", top).size(), 8);
}

void print_vma(std::ostream& out, const VmaView& view) {
  out << fmt::format("{:<16x} {:>10x} {:>10x} {:>6x} {}\n", view.vma.address, view.vma.start, view.vma.end,
                     view.vma.flags, view.file);
}

void print_task_vm(std::ostream& out, const Program& program, const TaskVm& vm, const VmRequest& request) {
  out << task_header(vm.task) << '\n';
  if (request.mm_struct) {  // crash: the header and the structure only
    out << vm.mm_struct_text;
    return;
  }
  const bool pages = request.pages;
  const MemoryFigures& f = vm.figures;
  const uint64_t page_kib = program.arch().page_size() / 1024;
  out << kMmHeader;
  out << fmt::format("{}  {}  {}  {}\n", centered(fmt::format("{:x}", f.mm), 16), centered(fmt::format("{:x}", f.pgd), 16),
                     centered(fmt::format("{}k", f.rss_pages * page_kib), 6),
                     centered(fmt::format("{}k", f.total_vm_pages * page_kib), 8));
  if (f.mm == 0) return;
  if (!pages) out << kVmaHeader;
  const size_t width = physical_width(program);
  for (const VmaView& view : vm.vmas) {
    if (pages) out << kVmaHeader;
    print_vma(out, view);
    if (!pages) continue;
    out << fmt::format("{:<10}  {:<{}}\n", "VIRTUAL", "PHYSICAL", width);
    for (const PageMapping& page : view.pages) {
      if (page.physical) out << fmt::format("{:<10x}  {:>{}x}\n", page.vaddr, *page.physical, width);
      else if (page.swap_entry) out << fmt::format("{:<10x}  SWAP: entry {:x}\n", page.vaddr, *page.swap_entry);
      else if (page.file_offset)
        out << fmt::format("{:<10x}  FILE: {}  OFFSET: {:x}\n", page.vaddr, view.file, *page.file_offset);
      else out << fmt::format("{:<10x}  (not mapped)\n", page.vaddr);
    }
  }
  for (const std::string& problem : vm.problems) out << "vm: " << problem << '\n';
}

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

nlohmann::json task_vm_json(const Program& program, const TaskVm& vm, bool pages) {
  nlohmann::json result = task_header_json(vm.task);
  const MemoryFigures& f = vm.figures;
  const uint64_t page_kib = program.arch().page_size() / 1024;
  result["mm"] = hex(f.mm);
  result["pgd"] = hex(f.pgd);
  result["rss"] = f.rss_pages * page_kib;  // KiB, as crash's "64k"
  result["total_vm"] = f.total_vm_pages * page_kib;
  if (vm.mm_struct_json) result["mm_struct"] = *vm.mm_struct_json;
  nlohmann::json vmas = nlohmann::json::array();
  for (const VmaView& view : vm.vmas) {
    nlohmann::json entry = {{"vma", hex(view.vma.address)}, {"start", hex(view.vma.start)},
                            {"end", hex(view.vma.end)},     {"flags", hex(view.vma.flags)},
                            {"file", view.file.empty() ? nlohmann::json(nullptr) : nlohmann::json(view.file)}};
    if (pages) {
      nlohmann::json list = nlohmann::json::array();
      for (const PageMapping& page : view.pages) {
        nlohmann::json p = {{"virtual", hex(page.vaddr)},
                            {"physical", page.physical ? nlohmann::json(hex(*page.physical)) : nlohmann::json(nullptr)}};
        if (page.swap_entry) p["swap_entry"] = hex(*page.swap_entry);
        if (page.file_offset) p["file_offset"] = hex(*page.file_offset);
        list.push_back(std::move(p));
      }
      entry["pages"] = std::move(list);
    }
    vmas.push_back(std::move(entry));
  }
  if (!vm.mm_struct_json) result["vmas"] = std::move(vmas);
  if (!vm.problems.empty()) result["errors"] = vm.problems;
  return result;
}

Expected<void> show(CommandContext& ctx, const std::vector<linux_kernel::Task>& tasks, const VmRequest& request,
                    bool single) {
  return show_each_task(ctx, tasks.size(), single, [&](size_t i) -> Expected<nlohmann::json> {
    CORONER_TRY(vm, task_vm(ctx, tasks[i], request));
    if (ctx.json()) return task_vm_json(ctx.program, vm, request.pages);
    if (i > 0) ctx.out << '\n';
    print_task_vm(ctx.out, ctx.program, vm, request);
    return nlohmann::json();
  });
}

Expected<void> run_vm(CommandContext& ctx, const Arguments& args) {
  CORONER_TRY(request, parse_request(args));
  CORONER_TRY(tasks, named_tasks(ctx, request.tasks));
  return show(ctx, tasks, request, request.tasks.size() <= 1);
}

// foreach's entry: the given tasks, vm's options.
Expected<void> run_vm_per_task(CommandContext& ctx, const std::vector<linux_kernel::Task>& tasks,
                               const Arguments& options) {
  CORONER_TRY(request, parse_request(options));
  if (!request.tasks.empty()) return make_error(Errc::invalid_argument, "foreach vm takes vm's options only (-p -m)");
  return show(ctx, tasks, request, /*single=*/false);
}

}  // namespace

PerTaskCommand vm_per_task_command() { return {"vm", run_vm_per_task}; }

Command vm_command() {
  return {"vm", "a task's virtual memory: mm_struct figures and VMAs",
          "  vm [-p | -m] [PID | TASK ...]\n"
          "    (none)  the task of the `set` context, else the one running on the CPU that crashed\n"
          "    MM PGD RSS TOTAL_VM, then each VMA: VMA START END FLAGS (vm_flags) FILE (the mapped file's path)\n"
          "    -p      after each VMA, every page: VIRTUAL PHYSICAL, or FILE: path OFFSET: for a file page not\n"
          "            in memory, SWAP: entry for a swapped-out page, (not mapped)\n"
          "    -m      the task's struct mm_struct\n"
          "  A kernel thread has no mm_struct: only its MM line (zeros) is shown. JSON: rss and total_vm in KiB.\n"
          "  crash> vm 1\n"
          "  crash> vm -p 1",
          run_vm};
}

}  // namespace coroner::commands
