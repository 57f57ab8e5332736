// files: a task's open files as crash's files [-d DENTRY] [PID | TASK ...]:
// ROOT and CWD, then FD FILE DENTRY INODE TYPE PATH for each descriptor,
// paths built from dentries and mounts; -d shows one dentry.
#include "analyzer/os/linux/open_files.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/task_output.hpp"
#include "commands/task_selection.hpp"

#include <algorithm>
#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "files [-d DENTRY] [PID | TASK ...]";

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

std::string centered(std::string_view text) { return fmt::format("{:^16}", text); }

// crash's TYPE column is four characters wide.
std::string type_column(std::string_view type) { return fmt::format("{:<4}", type); }

void print_files(std::ostream& out, const linux_kernel::Task& task, const linux_kernel::TaskFiles& files) {
  out << task_header(task) << '\n';
  if (files.root || files.cwd)
    out << fmt::format("ROOT: {}    CWD: {}\n", files.root.value_or("?"), files.cwd.value_or("?"));
  if (files.files.empty()) {
    out << "No open files\n";
  } else {
    out << fmt::format(" FD {} {} {} TYPE PATH\n", centered("FILE"), centered("DENTRY"), centered("INODE"));
    for (const linux_kernel::OpenFile& f : files.files) {
      bool known = f.dentry && f.inode && !f.path_error;
      out << fmt::format("{:>3} {:>16x} {:>16x} {:>16x} {} {}\n", f.fd, f.file, f.dentry, f.inode,
                         type_column(f.type), known ? f.path : "?");
    }
  }
  for (const linux_kernel::OpenFile& f : files.files)
    if (f.path_error) out << "files: " << f.path_error->message() << '\n';
  for (const Error& e : files.skipped) out << "files: skipped " << e.message() << '\n';
}

nlohmann::json files_json(const linux_kernel::Task& task, const linux_kernel::TaskFiles& files) {
  nlohmann::json result = task_header_json(task);
  result["root"] = files.root ? nlohmann::json(*files.root) : nlohmann::json(nullptr);
  result["cwd"] = files.cwd ? nlohmann::json(*files.cwd) : nlohmann::json(nullptr);
  nlohmann::json list = nlohmann::json::array();
  std::vector<std::string> errors;
  for (const linux_kernel::OpenFile& f : files.files) {
    list.push_back({{"fd", f.fd},
                    {"file", hex(f.file)},
                    {"dentry", hex(f.dentry)},
                    {"inode", hex(f.inode)},
                    {"type", f.type},
                    {"path", f.path_error ? nlohmann::json(nullptr) : nlohmann::json(f.path)}});
    if (f.path_error) errors.push_back(f.path_error->message());
  }
  for (const Error& e : files.skipped) errors.push_back("skipped " + e.message());
  result["files"] = std::move(list);
  if (!errors.empty()) result["errors"] = errors;
  return result;
}

Expected<void> show_dentry(CommandContext& ctx, std::string_view text) {
  CORONER_TRY(address, parse_address(ctx.program, text));
  auto found = linux_kernel::dentry_info(ctx.program, address);
  if (!found) return found.error().context(fmt::format("dentry {:#x}", address));
  const linux_kernel::DentryInfo& info = *found;
  if (ctx.json()) {
    ctx.emit({{"dentry", hex(info.dentry)},
              {"inode", hex(info.inode)},
              {"superblk", hex(info.superblock)},
              {"type", info.type},
              {"path", info.path}});
    return {};
  }
  ctx.out << fmt::format("{} {} {} TYPE PATH\n", centered("DENTRY"), centered("INODE"), centered("SUPERBLK"));
  ctx.out << fmt::format("{:>16x} {:>16x} {:^16x} {} {}\n", info.dentry, info.inode, info.superblock,
                         type_column(info.type), info.path);
  return {};
}

// crash ends the files of a task named by PID with an empty line (and
// starts every task but the first with one).
bool names_pid(std::string_view word) {
  return std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Expected<void> show(CommandContext& ctx, const std::vector<linux_kernel::Task>& tasks,
                    const std::vector<bool>& blank_after, bool single) {
  return show_each_task(ctx, tasks.size(), single, [&](size_t i) -> Expected<nlohmann::json> {
    const linux_kernel::Task& task = tasks[i];
    auto files = linux_kernel::open_files(ctx.program, task.address);
    if (!files) return files.error().context(fmt::format("PID {}", task.pid));
    if (ctx.json()) return files_json(task, *files);
    if (i > 0) ctx.out << '\n';
    print_files(ctx.out, task, *files);
    if (blank_after[i]) ctx.out << '\n';
    return nlohmann::json();
  });
}

Expected<void> run_files(CommandContext& ctx, const Arguments& args) {
  std::vector<std::string> words;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-d") {
      if (i + 1 >= args.size()) return make_error(Errc::invalid_argument, "-d needs a dentry address (usage: {})", kUsage);
      return show_dentry(ctx, args[i + 1]);
    }
    if (args[i].starts_with("-d")) return show_dentry(ctx, std::string_view(args[i]).substr(2));
    if (args[i].starts_with("-"))
      return make_error(Errc::invalid_argument, "unknown option {} (usage: {})", args[i], kUsage);
    words.push_back(args[i]);
  }
  CORONER_TRY(tasks, named_tasks(ctx, words));
  std::vector<bool> blank_after;
  for (size_t i = 0; i < tasks.size(); ++i) blank_after.push_back(!words.empty() && names_pid(words[i]));
  return show(ctx, tasks, blank_after, words.size() <= 1);
}

// foreach's entry: the given tasks; files takes no options there.
Expected<void> run_files_per_task(CommandContext& ctx, const std::vector<linux_kernel::Task>& tasks,
                                  const Arguments& options) {
  if (!options.empty()) return make_error(Errc::invalid_argument, "foreach files takes no options");
  return show(ctx, tasks, std::vector<bool>(tasks.size(), false), /*single=*/false);
}

}  // namespace

PerTaskCommand files_per_task_command() { return {"files", run_files_per_task}; }

Command files_command() {
  return {"files", "a task's open files: root, working directory, and each descriptor with its path",
          "  files [-d DENTRY] [PID | TASK ...]\n"
          "    (none)     the task of the `set` context, else the one running on the CPU that crashed\n"
          "    ROOT and CWD, then FD FILE DENTRY INODE TYPE (REG DIR CHR BLK FIFO SOCK LNK) PATH for each\n"
          "    descriptor; paths as the kernel's d_path() builds them, across mount points: pipe:[INODE],\n"
          "    socket:[INODE], anon_inode:NAME for pseudo files, \" (deleted)\" after a removed file\n"
          "    -d DENTRY  that dentry: DENTRY INODE SUPERBLK TYPE PATH\n"
          "  crash> files 1",
          run_files};
}

}  // namespace coroner::commands
