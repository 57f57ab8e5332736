// The System V IPC objects of the initial IPC namespace, as crash's `ipcs`
// shows them: init_ipc_ns.ids[] (semaphores, message queues, shared
// memory), each an idr (an XArray since 4.20, a radix tree before) of
// kern_ipc_perm inside a sem_array, msg_queue or shmid_kernel. An error
// on kernels without CONFIG_SYSVIPC.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace coroner::linux_kernel {

enum class IpcKind { semaphores, message_queues, shared_memory };  // the index into ipc_namespace.ids[]

struct IpcObject {
  uint64_t address = 0;  // the sem_array, msg_queue or shmid_kernel
  int32_t key = 0, id = 0;
  uint32_t uid = 0, mode = 0;
  uint64_t size = 0;   // shared memory: bytes; semaphores: nsems; messages: bytes queued
  uint64_t count = 0;  // shared memory: attaches; messages: messages queued
};

struct IpcTable {
  IpcKind kind = IpcKind::shared_memory;
  uint64_t ipc_ids = 0;
  std::vector<IpcObject> objects;  // by id
  std::optional<Error> skipped;    // the idr or an object could not be read
};

Expected<IpcTable> ipc_table(const Program& program, IpcKind kind);

}  // namespace coroner::linux_kernel
