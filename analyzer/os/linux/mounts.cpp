#include "analyzer/os/linux/mounts.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/cached_layout.hpp"
#include "analyzer/os/linux/dentry_path.hpp"
#include "analyzer/os/linux/kernel_trees.hpp"
#include "analyzer/os/linux/list_walk.hpp"

namespace coroner::linux_kernel {

namespace {

constexpr size_t kMaxMounts = 1 << 20;  // far above sysctl fs.mount-max's default (100000)
constexpr size_t kMaxName = 4096;

struct MountLayout {
  uint64_t task_nsproxy = 0, nsproxy_mnt_ns = 0;
  std::optional<uint64_t> ns_list, mount_list;  // before 6.8
  uint64_t ns_mounts = 0, mount_node = 0;       // since
  uint64_t mount_mnt = 0, mount_devname = 0, mount_parent = 0, mount_mountpoint = 0;
  uint64_t mnt_sb = 0, sb_type = 0, fs_type_name = 0;
};

Expected<MountLayout> read_mount_layout(const Program& program) {
  MountLayout l;
  CORONER_TRY(nsproxy, program.member_offset("struct task_struct", "nsproxy"));
  CORONER_TRY(mnt_ns, program.member_offset("struct nsproxy", "mnt_ns"));
  l.task_nsproxy = nsproxy, l.nsproxy_mnt_ns = mnt_ns;
  if (auto list = program.member_offset("struct mnt_namespace", "list")) {
    CORONER_TRY(link, program.member_offset("struct mount", "mnt_list"));
    l.ns_list = *list, l.mount_list = link;
  } else {
    CORONER_TRY(root, program.member_offset("struct mnt_namespace", "mounts"));
    CORONER_TRY(node, program.member_offset("struct mount", "mnt_node"));
    l.ns_mounts = root, l.mount_node = node;
  }
  CORONER_TRY(mnt, program.member_offset("struct mount", "mnt"));
  CORONER_TRY(devname, program.member_offset("struct mount", "mnt_devname"));
  CORONER_TRY(parent, program.member_offset("struct mount", "mnt_parent"));
  CORONER_TRY(mountpoint, program.member_offset("struct mount", "mnt_mountpoint"));
  CORONER_TRY(sb, program.member_offset("struct vfsmount", "mnt_sb"));
  CORONER_TRY(type, program.member_offset("struct super_block", "s_type"));
  CORONER_TRY(name, program.member_offset("struct file_system_type", "name"));
  l.mount_mnt = mnt, l.mount_devname = devname, l.mount_parent = parent, l.mount_mountpoint = mountpoint;
  l.mnt_sb = sb, l.sb_type = type, l.fs_type_name = name;
  return l;
}

Expected<MountLayout> mount_layout(const Program& program) { return cached_layout(program, read_mount_layout); }

Expected<std::string> string_at_pointer(const KernelMemory& memory, uint64_t pointer_address) {
  CORONER_TRY(pointer, memory.read_u64(pointer_address));
  if (pointer == 0) return make_error(Errc::not_found, "NULL name pointer at {:#x}", pointer_address);
  return memory.read_string(pointer, kMaxName);
}

}  // namespace

Expected<uint64_t> task_mount_namespace(const Program& program, uint64_t task) {
  CORONER_TRY(l, mount_layout(program));
  CORONER_TRY(nsproxy, program.memory().read_u64(task + l.task_nsproxy));
  if (nsproxy == 0) return make_error(Errc::not_found, "task {:#x} has no nsproxy (it has exited)", task);
  return program.memory().read_u64(nsproxy + l.nsproxy_mnt_ns);
}

Expected<uint64_t> initial_mount_namespace(const Program& program) {
  CORONER_TRY(nsproxy, kernel_object(program, "init_nsproxy"));
  CORONER_TRY(mnt_ns, nsproxy.member("mnt_ns"));
  return mnt_ns.read_unsigned();
}

Expected<std::vector<uint64_t>> namespace_mounts(const Program& program, uint64_t mnt_ns) {
  CORONER_TRY(l, mount_layout(program));
  std::vector<uint64_t> mounts;
  if (l.ns_list) {
    ListBudget budget{kMaxMounts};
    CORONER_CHECK(walk_list(program.memory(), "mount list", mnt_ns + *l.ns_list, *l.mount_list, budget,
                            [&](uint64_t mount) {
                              mounts.push_back(mount);
                              return Expected<void>();
                            }));
    return mounts;
  }
  CORONER_TRY(rb, rbtree_layout(program));
  CORONER_TRY(nodes, walk_rbtree(program.memory(), rb, mnt_ns + l.ns_mounts, RbOrder::linear, false, kMaxMounts));
  for (const RbNode& n : nodes) mounts.push_back(n.address - l.mount_node);
  return mounts;
}

Expected<std::vector<uint64_t>> initial_mounts(const Program& program) {
  CORONER_TRY(ns, initial_mount_namespace(program));
  return namespace_mounts(program, ns);
}

Mount read_mount(const Program& program, uint64_t mount) {
  const KernelMemory& memory = program.memory();
  Mount m;
  m.mount = mount;
  auto l = mount_layout(program);
  if (!l) {
    m.error = l.error();
    return m;
  }
  m.vfsmount = mount + l->mount_mnt;
  auto fail = [&](const Error& e) {
    m.error = e.context(fmt::format("mount {:#x}", mount));
    return m;
  };
  auto sb = memory.read_u64(m.vfsmount + l->mnt_sb);
  if (!sb) return fail(sb.error());
  m.superblock = *sb;
  auto type = memory.read_u64(m.superblock + l->sb_type);
  auto type_name = type ? string_at_pointer(memory, *type + l->fs_type_name) : Expected<std::string>(type.error());
  m.type = type_name ? *type_name : "unknown";
  auto devname = string_at_pointer(memory, mount + l->mount_devname);
  m.devname = devname ? *devname : "(unknown)";
  auto parent = memory.read_u64(mount + l->mount_parent);
  auto mountpoint = memory.read_u64(mount + l->mount_mountpoint);
  if (!parent || !mountpoint) return fail(!parent ? parent.error() : mountpoint.error());
  auto path = dentry_path(program, *mountpoint, *parent + l->mount_mnt);
  if (!path) return fail(path.error());
  m.dirname = std::move(*path);
  if (!type_name) return fail(type_name.error());
  if (!devname) return fail(devname.error());
  return m;
}

}  // namespace coroner::linux_kernel
