// The mounts of a mount namespace (struct mnt_namespace): the list
// mnt_namespace.list of mount.mnt_list before 6.8, the rbtree
// mnt_namespace.mounts of mount.mnt_node since (whichever the DWARF has),
// and what crash's mount shows of each: its super_block, file system type,
// device name and mount point path. Bounded; an unreadable mount costs only
// its own line (Mount::error).
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

// The mount namespace of a task (task->nsproxy->mnt_ns); an error for a
// task without nsproxy (an exited one).
Expected<uint64_t> task_mount_namespace(const Program& program, uint64_t task);
// The initial one (init_nsproxy.mnt_ns).
Expected<uint64_t> initial_mount_namespace(const Program& program);

// The struct mount of each mount of the namespace, in the kernel's order.
Expected<std::vector<uint64_t>> namespace_mounts(const Program& program, uint64_t mnt_ns);
// Those of the initial namespace.
Expected<std::vector<uint64_t>> initial_mounts(const Program& program);

struct Mount {
  uint64_t mount = 0;       // struct mount
  uint64_t vfsmount = 0;    // its struct vfsmount (mount.mnt)
  uint64_t superblock = 0;  // mnt.mnt_sb
  std::string type;         // sb->s_type->name
  std::string devname;      // mount.mnt_devname
  std::string dirname;      // the mount point's path, through the parent mount
  std::optional<Error> error;  // what could not be read (the fields above it are set)
};
Mount read_mount(const Program& program, uint64_t mount);

}  // namespace coroner::linux_kernel
