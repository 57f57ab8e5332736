#include "analyzer/os/linux/dentry_path.hpp"

#include "analyzer/os/linux/cached_layout.hpp"

#include <optional>
#include <set>
#include <utility>

namespace coroner::linux_kernel {

namespace {

constexpr size_t kPathMax = 4096;  // PATH_MAX

Expected<PathLayout> read_path_layout(const Program& program) {
  PathLayout l;
  CORONER_TRY(d_parent, program.member_offset("struct dentry", "d_parent"));
  CORONER_TRY(name, program.member_offset("struct dentry", "d_name.name"));
  CORONER_TRY(len, program.member_offset("struct dentry", "d_name.len"));
  CORONER_TRY(d_inode, program.member_offset("struct dentry", "d_inode"));
  CORONER_TRY(d_op, program.member_offset("struct dentry", "d_op"));
  CORONER_TRY(pprev, program.member_offset("struct dentry", "d_hash.pprev"));
  CORONER_TRY(d_dname, program.member_offset("struct dentry_operations", "d_dname"));
  CORONER_TRY(i_ino, program.member_offset("struct inode", "i_ino"));
  CORONER_TRY(mnt_root, program.member_offset("struct vfsmount", "mnt_root"));
  l.d_parent = d_parent, l.d_name_name = name, l.d_name_len = len, l.d_inode = d_inode, l.d_op = d_op;
  l.d_hash_pprev = pprev, l.d_dname = d_dname, l.i_ino = i_ino, l.mnt_root = mnt_root;
  if (auto mnt = program.member_offset("struct mount", "mnt")) {
    l.mount_mnt = *mnt;
    CORONER_TRY(parent, program.member_offset("struct mount", "mnt_parent"));
    CORONER_TRY(mountpoint, program.member_offset("struct mount", "mnt_mountpoint"));
    l.mnt_parent = parent, l.mnt_mountpoint = mountpoint;
  } else {
    CORONER_TRY(parent, program.member_offset("struct vfsmount", "mnt_parent"));
    CORONER_TRY(mountpoint, program.member_offset("struct vfsmount", "mnt_mountpoint"));
    l.mnt_parent = parent, l.mnt_mountpoint = mountpoint;
  }
  auto address = [&](std::string_view function) { return program.symbol_address(function).value_or(0); };
  l.pipefs_dname = address("pipefs_dname"), l.sockfs_dname = address("sockfs_dname");
  l.anon_inodefs_dname = address("anon_inodefs_dname"), l.simple_dname = address("simple_dname");
  return l;
}

// The mount a vfsmount belongs to, and back (the same address before 3.3).
uint64_t mount_of(const PathLayout& l, uint64_t vfsmount) { return vfsmount - l.mount_mnt; }
uint64_t vfsmount_of(const PathLayout& l, uint64_t mount) { return mount + l.mount_mnt; }

Expected<std::string> dentry_name(const KernelMemory& memory, const PathLayout& l, uint64_t dentry) {
  CORONER_TRY(name, memory.read_u64(dentry + l.d_name_name));
  CORONER_TRY(len, memory.read_u32(dentry + l.d_name_len));
  if (len > 255) return make_error(Errc::corrupt, "dentry {:#x}: name length {} (NAME_MAX is 255)", dentry, len);
  CORONER_TRY(text, memory.read_string(name, len));
  return text;
}

// The name a pseudo file's d_dname() gives it, or nullopt for a dentry
// without one (or one of a d_dname this reader does not know).
Expected<std::optional<std::string>> dynamic_name(const KernelMemory& memory, const PathLayout& l, uint64_t dentry) {
  CORONER_TRY(ops, memory.read_u64(dentry + l.d_op));
  if (ops == 0) return std::optional<std::string>();
  CORONER_TRY(d_dname, memory.read_u64(ops + l.d_dname));
  if (d_dname == 0) return std::optional<std::string>();
  auto is = [&](uint64_t function) { return function != 0 && function == d_dname; };
  auto inode_number = [&]() -> Expected<uint64_t> {
    CORONER_TRY(inode, memory.read_u64(dentry + l.d_inode));
    return memory.read_u64(inode + l.i_ino);
  };
  if (is(l.pipefs_dname)) {
    CORONER_TRY(ino, inode_number());
    return std::optional(fmt::format("pipe:[{}]", ino));
  }
  if (is(l.sockfs_dname)) {
    CORONER_TRY(ino, inode_number());
    return std::optional(fmt::format("socket:[{}]", ino));
  }
  if (is(l.anon_inodefs_dname)) {
    CORONER_TRY(name, dentry_name(memory, l, dentry));
    return std::optional("anon_inode:" + name);
  }
  if (is(l.simple_dname)) {  // memfd and other unlinked internal files
    CORONER_TRY(name, dentry_name(memory, l, dentry));
    return std::optional("/" + name + " (deleted)");
  }
  return std::optional<std::string>();
}

}  // namespace

// Read once per program: a path walk asks for it at every file.
Expected<PathLayout> path_layout(const Program& program) {
  return cached_layout(program, read_path_layout);
}

Expected<std::string> dentry_path(const Program& program, uint64_t dentry, uint64_t vfsmount) {
  CORONER_TRY(layout, path_layout(program));
  return dentry_path(program.memory(), layout, dentry, vfsmount);
}

Expected<std::string> dentry_path(const KernelMemory& memory, const PathLayout& l, uint64_t dentry,
                                  uint64_t vfsmount) {
  auto context = [&](const Error& e) { return e.context(fmt::format("path of dentry {:#x}", dentry)); };

  // d_path() asks d_dname() first, except for the root of a mount.
  uint64_t mnt_root = 0;
  if (vfsmount) {
    auto root = memory.read_u64(vfsmount + l.mnt_root);
    if (!root) return context(root.error());
    mnt_root = *root;
  }
  if (dentry != mnt_root) {
    auto named = dynamic_name(memory, l, dentry);
    if (!named) return context(named.error());
    if (*named) return std::move(**named);
  }

  std::vector<std::string> components;  // from the file up
  size_t length = 0;
  std::set<std::pair<uint64_t, uint64_t>> seen;  // (dentry, vfsmount)
  uint64_t at = dentry, mnt = vfsmount;
  while (true) {
    if (!seen.insert({at, mnt}).second)
      return make_error(Errc::corrupt, "path of dentry {:#x}: dentry {:#x} is reached twice (a loop)", dentry, at);
    auto parent = memory.read_u64(at + l.d_parent);
    if (!parent) return context(parent.error());
    bool fs_root = *parent == at;  // IS_ROOT()
    if (mnt) {
      auto root = memory.read_u64(mnt + l.mnt_root);
      if (!root) return context(root.error());
      if (fs_root || at == *root) {
        // The top of this mount: go on from its mount point in the parent
        // mount, unless this mount is the top of the tree.
        uint64_t mount = mount_of(l, mnt);
        auto up = memory.read_u64(mount + l.mnt_parent);
        auto point = memory.read_u64(mount + l.mnt_mountpoint);
        if (!up || !point) return context(!up ? up.error() : point.error());
        if (*up == mount || *up == 0) break;
        at = *point;
        mnt = vfsmount_of(l, *up);
        continue;
      }
    } else if (fs_root) {
      break;
    }
    auto name = dentry_name(memory, l, at);
    if (!name) return context(name.error());
    length += name->size() + 1;
    if (length > kPathMax)
      return make_error(Errc::corrupt, "path of dentry {:#x}: longer than PATH_MAX ({} bytes)", dentry, kPathMax);
    components.push_back(std::move(*name));
    at = *parent;
  }

  std::string path;
  for (auto it = components.rbegin(); it != components.rend(); ++it) path += "/" + *it;
  if (path.empty()) path = "/";
  // d_unlinked(): unhashed and not a root.
  auto pprev = memory.read_u64(dentry + l.d_hash_pprev);
  auto parent = memory.read_u64(dentry + l.d_parent);
  if (pprev && parent && *pprev == 0 && *parent != dentry) path += " (deleted)";
  return path;
}

}  // namespace coroner::linux_kernel
