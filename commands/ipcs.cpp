// ipcs: the System V IPC objects of the initial IPC namespace as crash's
// ipcs [-m] [-s] [-q] lists them: SHMID_KERNEL KEY SHMID UID PERMS BYTES
// NATTCH STATUS, SEM_ARRAY KEY SEMID UID PERMS NSEMS, MSG_QUEUE KEY MSQID
// UID PERMS USED-BYTES MESSAGES.
#include "analyzer/os/linux/ipc_objects.hpp"
#include "commands/builtin.hpp"

#include <ostream>

namespace coroner::commands {

namespace {

constexpr std::string_view kUsage = "ipcs [-m] [-s] [-q]";
constexpr uint32_t kShmDest = 01000, kShmLocked = 02000;  // in kern_ipc_perm.mode

using linux_kernel::IpcKind;

std::string header(IpcKind kind) {
  switch (kind) {
    case IpcKind::shared_memory:
      return fmt::format("{:<16} {:<8} {:<10} {:<5} {:<5} {:<10} {:<6} {:<6}\n", "SHMID_KERNEL", "KEY", "SHMID", "UID",
                         "PERMS", "BYTES", "NATTCH", "STATUS");
    case IpcKind::semaphores:
      return fmt::format("{:<16} {:<8} {:<10} {:<5} {:<5} {:<10}\n", "SEM_ARRAY", "KEY", "SEMID", "UID", "PERMS", "NSEMS");
    case IpcKind::message_queues: break;
  }
  return fmt::format("{:<16} {:<8} {:<10} {:<5} {:<5} {:<12} {:<12}\n", "MSG_QUEUE", "KEY", "MSQID", "UID", "PERMS",
                     "USED-BYTES", "MESSAGES");
}

std::string row(IpcKind kind, const linux_kernel::IpcObject& o) {
  std::string text = fmt::format("{:<16x} {:08x} {:<10} {:<5} {:<5o} {:<10}", o.address, static_cast<uint32_t>(o.key), o.id,
                                 o.uid, o.mode & 0777, o.size);
  if (kind == IpcKind::shared_memory)
    text += fmt::format(" {:<6} {} {}", o.count, o.mode & kShmDest ? "dest" : "", o.mode & kShmLocked ? "locked" : "");
  else if (kind == IpcKind::message_queues)
    text += fmt::format(" {:<12}", o.count);
  return text + '\n';
}

std::string_view kind_name(IpcKind kind) {
  switch (kind) {
    case IpcKind::shared_memory: return "shared_memory";
    case IpcKind::semaphores: return "semaphores";
    case IpcKind::message_queues: break;
  }
  return "message_queues";
}

Expected<void> run_ipcs(CommandContext& ctx, const Arguments& args) {
  bool shared_memory = false, semaphores = false, message_queues = false;
  for (const std::string& a : args) {
    if (a == "-m") shared_memory = true;
    else if (a == "-s") semaphores = true;
    else if (a == "-q") message_queues = true;
    else return make_error(Errc::invalid_argument, "unknown argument {} (usage: {})", a, kUsage);
  }
  const bool all = args.empty();
  // crash's order whatever the options' order: shared memory, semaphores, messages.
  std::vector<IpcKind> kinds;
  if (all || shared_memory) kinds.push_back(IpcKind::shared_memory);
  if (all || semaphores) kinds.push_back(IpcKind::semaphores);
  if (all || message_queues) kinds.push_back(IpcKind::message_queues);
  nlohmann::json doc = nlohmann::json::object();
  for (IpcKind kind : kinds) {
    CORONER_TRY(table, linux_kernel::ipc_table(ctx.program, kind));
    if (ctx.json()) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& o : table.objects) {
        nlohmann::json entry = {{"address", fmt::format("{:#x}", o.address)}, {"key", fmt::format("{:#010x}", static_cast<uint32_t>(o.key))},
                                {"id", o.id}, {"uid", o.uid}, {"perms", fmt::format("{:o}", o.mode & 0777)}};
        if (kind == IpcKind::shared_memory)
          entry["bytes"] = o.size, entry["nattch"] = o.count, entry["dest"] = (o.mode & kShmDest) != 0,
          entry["locked"] = (o.mode & kShmLocked) != 0;
        else if (kind == IpcKind::semaphores) entry["nsems"] = o.size;
        else entry["used_bytes"] = o.size, entry["messages"] = o.count;
        list.push_back(std::move(entry));
      }
      doc[kind_name(kind)] = list;
      if (table.skipped) doc["errors"].push_back(table.skipped->message());
      continue;
    }
    ctx.out << header(kind);
    for (const auto& o : table.objects) ctx.out << row(kind, o);
    if (table.objects.empty()) ctx.out << "(none allocated)\n";
    if (table.skipped) ctx.out << "ipcs: " << table.skipped->message() << '\n';
    ctx.out << '\n';
  }
  if (ctx.json()) ctx.emit(doc);
  return {};
}

}  // namespace

Command ipcs_command() {
  return {"ipcs", "System V IPC: shared memory segments, semaphore arrays and message queues",
          "  ipcs [-m] [-s] [-q]\n"
          "    the objects of the initial IPC namespace (all three kinds without an option):\n"
          "    -m  shared memory: SHMID_KERNEL KEY SHMID UID PERMS BYTES NATTCH STATUS (dest, locked)\n"
          "    -s  semaphore arrays: SEM_ARRAY KEY SEMID UID PERMS NSEMS\n"
          "    -q  message queues: MSG_QUEUE KEY MSQID UID PERMS USED-BYTES MESSAGES\n"
          "    An error on a kernel without CONFIG_SYSVIPC.\n"
          "  crash> ipcs -m",
          run_ipcs};
}

}  // namespace coroner::commands
