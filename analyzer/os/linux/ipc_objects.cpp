#include "analyzer/os/linux/ipc_objects.hpp"

#include "analyzer/os/linux/kernel_trees.hpp"

namespace coroner::linux_kernel {

namespace {

constexpr size_t kMaxIpcObjects = 1 << 20;  // IPCMNI is 32768 (16M with ipcmni_extend)

struct ObjectLayout {
  std::string_view type, perm;  // "struct shmid_kernel", "shm_perm"
};

ObjectLayout object_layout(IpcKind kind) {
  switch (kind) {
    case IpcKind::semaphores: return {"struct sem_array", "sem_perm"};
    case IpcKind::message_queues: return {"struct msg_queue", "q_perm"};
    case IpcKind::shared_memory: break;
  }
  return {"struct shmid_kernel", "shm_perm"};
}

Expected<IpcObject> read_object(const Program& program, IpcKind kind, uint64_t perm) {
  const KernelMemory& memory = program.memory();
  const ObjectLayout layout = object_layout(kind);
  CORONER_TRY(perm_offset, program.member_offset(layout.type, layout.perm));
  CORONER_TRY(key, program.member_offset("struct kern_ipc_perm", "key"));
  CORONER_TRY(id, program.member_offset("struct kern_ipc_perm", "id"));
  CORONER_TRY(uid, program.member_offset("struct kern_ipc_perm", "uid"));
  CORONER_TRY(mode, program.member_offset("struct kern_ipc_perm", "mode"));
  IpcObject object;
  object.address = perm - perm_offset;
  CORONER_TRY(key_value, memory.read_u32(perm + key));
  CORONER_TRY(id_value, memory.read_u32(perm + id));
  CORONER_TRY(uid_value, memory.read_u32(perm + uid));  // kuid_t: one u32
  CORONER_TRY(mode_value, memory.read_value<uint16_t>(perm + mode));
  object.key = static_cast<int32_t>(key_value), object.id = static_cast<int32_t>(id_value);
  object.uid = uid_value, object.mode = mode_value;
  switch (kind) {
    case IpcKind::shared_memory: {
      CORONER_TRY(segsz, program.member_offset(layout.type, "shm_segsz"));
      CORONER_TRY(nattch, program.member_offset(layout.type, "shm_nattch"));
      CORONER_TRY(bytes, memory.read_u64(object.address + segsz));
      CORONER_TRY(attached, memory.read_u64(object.address + nattch));
      object.size = bytes, object.count = attached;
      break;
    }
    case IpcKind::semaphores: {
      CORONER_TRY(nsems, program.member_offset(layout.type, "sem_nsems"));
      CORONER_TRY(count, memory.read_u32(object.address + nsems));
      object.size = count;
      break;
    }
    case IpcKind::message_queues: {
      CORONER_TRY(cbytes, program.member_offset(layout.type, "q_cbytes"));
      CORONER_TRY(qnum, program.member_offset(layout.type, "q_qnum"));
      CORONER_TRY(bytes, memory.read_u64(object.address + cbytes));
      CORONER_TRY(messages, memory.read_u64(object.address + qnum));
      object.size = bytes, object.count = messages;
      break;
    }
  }
  return object;
}

}  // namespace

Expected<IpcTable> ipc_table(const Program& program, IpcKind kind) {
  auto ids = program.member_offset("struct ipc_namespace", "ids");
  auto namespace_address = program.symbol_address("init_ipc_ns");
  if (!ids || !namespace_address || !program.type_size(object_layout(kind).type))
    return make_error(Errc::unsupported, "this kernel has no System V IPC (CONFIG_SYSVIPC is not set)");
  CORONER_TRY(ids_size, program.type_size("struct ipc_ids"));
  CORONER_TRY(idr, program.member_offset("struct ipc_ids", "ipcs_idr"));
  CORONER_TRY(idr_root, program.member_offset("struct idr", "idr_rt"));
  CORONER_TRY(layout, xarray_layout(program));
  IpcTable table;
  table.kind = kind;
  table.ipc_ids = *namespace_address + *ids + static_cast<uint64_t>(kind) * ids_size;
  auto entries = walk_xarray(program.memory(), layout, table.ipc_ids + idr + idr_root, kMaxIpcObjects);
  if (!entries) {
    table.skipped = entries.error().context(fmt::format("ipc_ids {:#x}", table.ipc_ids));
    return table;
  }
  for (const IndexedEntry& entry : *entries) {
    auto object = read_object(program, kind, entry.value);
    if (!object) {
      table.skipped = object.error().context(fmt::format("kern_ipc_perm {:#x}", entry.value));
      break;
    }
    table.objects.push_back(*object);
  }
  return table;
}

}  // namespace coroner::linux_kernel
