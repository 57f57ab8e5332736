// Path names of dentries, built as the kernel's d_path() builds them: the
// d_parent chain up to the root of each mount, crossing to the mount point
// in the parent mount (struct mount: mnt_mountpoint, mnt_parent) until the
// mount that is its own parent. Pseudo files name themselves like the
// kernel's d_dname() operations do ("pipe:[ino]", "socket:[ino]",
// "anon_inode:NAME"), and a removed file ends in " (deleted)". Bounded:
// at most PATH_MAX bytes and a dentry or mount seen twice ends the walk.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <string>

namespace coroner::linux_kernel {

// Offsets from DWARF, and the addresses of the d_dname() functions whose
// names are known (0 when the kernel has none).
struct PathLayout {
  uint64_t d_parent = 0, d_name_name = 0, d_name_len = 0, d_inode = 0, d_op = 0, d_hash_pprev = 0;
  uint64_t d_dname = 0;  // dentry_operations.d_dname
  uint64_t i_ino = 0;
  // struct mount embeds the struct vfsmount (mnt) since 3.3; before, these
  // members were the vfsmount's own (mount_mnt 0).
  uint64_t mount_mnt = 0, mnt_parent = 0, mnt_mountpoint = 0;
  uint64_t mnt_root = 0;  // vfsmount.mnt_root
  uint64_t pipefs_dname = 0, sockfs_dname = 0, anon_inodefs_dname = 0, simple_dname = 0;
};
Expected<PathLayout> path_layout(const Program& program);

// The path of `dentry` as seen through the mount whose struct vfsmount is
// at `vfsmount` (0: no mount known -- the path within its file system).
Expected<std::string> dentry_path(const KernelMemory& memory, const PathLayout& layout, uint64_t dentry,
                                  uint64_t vfsmount);
Expected<std::string> dentry_path(const Program& program, uint64_t dentry, uint64_t vfsmount);

}  // namespace coroner::linux_kernel
