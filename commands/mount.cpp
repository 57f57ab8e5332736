// mount: the mounts of a mount namespace as crash's mount [-n PID|TASK]
// [MOUNT|SUPERBLK|DEVNAME|DIRNAME ...]: MOUNT SUPERBLK TYPE DEVNAME DIRNAME,
// from PID 1's namespace unless -n names a task.
#include "analyzer/os/linux/mounts.hpp"
#include "commands/arguments.hpp"
#include "commands/builtin.hpp"
#include "commands/task_selection.hpp"

#include <algorithm>
#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "mount [-n PID | TASK] [MOUNT | SUPERBLK | DEVNAME | DIRNAME ...]";
constexpr size_t kAddressWidth = 16;

std::string header() {
  return fmt::format("{:^{}} {:^{}} {:<6} {:<9} DIRNAME\n", "MOUNT", kAddressWidth, "SUPERBLK", kAddressWidth, "TYPE",
                     "DEVNAME");
}

// crash's line: TYPE and DEVNAME padded to 6 and 9 columns, the pair
// squeezed back to 17 columns when a long type pushed it wider.
std::string mount_line(const linux_kernel::Mount& m) {
  std::string middle = fmt::format("{:<6} {:<9} ", m.type, m.devname);
  while (middle.size() > 17 && middle[middle.size() - 2] == ' ') middle.pop_back();
  return fmt::format("{:>{}x} {:>{}x} {}{:<10}\n", m.mount, kAddressWidth, m.superblock, kAddressWidth, middle,
                     m.dirname);
}

// Whether `word` names the mount: its struct mount or super_block address,
// its device name or its mount point.
bool matches(const Program& program, const linux_kernel::Mount& m, const std::string& word) {
  if (word == m.devname || word == m.dirname) return true;
  auto address = parse_address(program, word);
  return address && (*address == m.mount || *address == m.vfsmount || *address == m.superblock);
}

Expected<void> run_mount(CommandContext& ctx, const Arguments& args) {
  std::optional<std::string> task_word;
  std::vector<std::string> filters;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "-n" || (word.starts_with("-n") && word.size() > 2)) {
      if (word == "-n" && i + 1 >= args.size())
        return make_error(Errc::invalid_argument, "-n needs a PID or task address (usage: {})", kUsage);
      task_word = word == "-n" ? args[++i] : word.substr(2);
    } else if (word == "-f") {
      return make_error(Errc::unsupported, "the super_block.s_files linked list does not exist in this kernel: "
                                           "-f option not supported or applicable on this architecture or kernel");
    } else if (word == "-i") {
      return make_error(Errc::unsupported, "the super_block.s_dirty linked list does not exist in this kernel: "
                                           "-i option not supported or applicable on this architecture or kernel");
    } else if (word.starts_with("-")) {
      return make_error(Errc::invalid_argument, "unknown option {} (usage: {})", word, kUsage);
    } else {
      filters.push_back(word);
    }
  }
  // crash reads the namespace of PID 1 unless told otherwise.
  uint64_t mnt_ns = 0;
  if (task_word) {
    CORONER_TRY(task, task_argument(ctx.program, *task_word));
    CORONER_TRY(ns, linux_kernel::task_mount_namespace(ctx.program, task.address));
    mnt_ns = ns;
  } else if (auto init = linux_kernel::find_task(ctx.program, 1)) {
    if (auto ns = linux_kernel::task_mount_namespace(ctx.program, init->address)) mnt_ns = *ns;
  }
  if (mnt_ns == 0) {
    CORONER_TRY(ns, linux_kernel::initial_mount_namespace(ctx.program));
    mnt_ns = ns;
  }
  CORONER_TRY(addresses, linux_kernel::namespace_mounts(ctx.program, mnt_ns));
  std::vector<linux_kernel::Mount> mounts;
  for (uint64_t address : addresses) {
    linux_kernel::Mount m = linux_kernel::read_mount(ctx.program, address);
    if (filters.empty() || std::any_of(filters.begin(), filters.end(),
                                       [&](const std::string& w) { return matches(ctx.program, m, w); }))
      mounts.push_back(std::move(m));
  }
  if (!filters.empty() && mounts.empty())
    return make_error(Errc::not_found, "no mount matches {}", fmt::join(filters, " "));

  if (ctx.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const linux_kernel::Mount& m : mounts) {
      nlohmann::json entry = {{"mount", fmt::format("{:#x}", m.mount)},
                              {"superblk", fmt::format("{:#x}", m.superblock)},
                              {"type", m.type},
                              {"devname", m.devname},
                              {"dirname", m.dirname}};
      if (m.error) entry["error"] = m.error->message();
      list.push_back(std::move(entry));
    }
    ctx.emit({{"mnt_namespace", fmt::format("{:#x}", mnt_ns)}, {"mounts", list}});
    return {};
  }
  ctx.out << header();
  for (const linux_kernel::Mount& m : mounts) ctx.out << mount_line(m);
  for (const linux_kernel::Mount& m : mounts)
    if (m.error) ctx.out << "mount: " << m.error->message() << '\n';
  return {};
}

}  // namespace

Command mount_command() {
  return {"mount", "the mounted file systems of a mount namespace",
          "  mount [-n PID | TASK] [MOUNT | SUPERBLK | DEVNAME | DIRNAME ...]\n"
          "    (none)      every mount of PID 1's namespace: MOUNT (struct mount) SUPERBLK TYPE DEVNAME\n"
          "                DIRNAME (the mount point's path)\n"
          "    -n PID      the mounts of that task's namespace (a PID or a task_struct address)\n"
          "    ARG ...     only the mounts with that struct mount or super_block address, device name or\n"
          "                mount point\n"
          "    (-f and -i, crash's open files and dirty inodes of each super_block, need lists that\n"
          "    kernels since 2.6.39 / 3.x no longer keep)\n"
          "  crash> mount /dev",
          run_mount};
}

}  // namespace coroner::commands
