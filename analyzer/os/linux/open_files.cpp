#include "analyzer/os/linux/open_files.hpp"

#include "analyzer/os/linux/cached_layout.hpp"
#include "analyzer/os/linux/mounts.hpp"

#include <bit>

namespace coroner::linux_kernel {

namespace {

// sysctl fs.nr_open cannot exceed this (NR_OPEN_MAX on 64-bit kernels is
// larger, but the fd array would not fit in memory): a bigger max_fds is
// corrupt, and only this many descriptors are read.
constexpr uint64_t kMaxFds = 1 << 20;

Expected<FileLayout> read_file_layout(const Program& program) {
  FileLayout l;
  CORONER_TRY(fs, program.member_offset("struct task_struct", "fs"));
  CORONER_TRY(files, program.member_offset("struct task_struct", "files"));
  CORONER_TRY(root, program.member_offset("struct fs_struct", "root"));
  CORONER_TRY(pwd, program.member_offset("struct fs_struct", "pwd"));
  CORONER_TRY(mnt, program.member_offset("struct path", "mnt"));
  CORONER_TRY(dentry, program.member_offset("struct path", "dentry"));
  CORONER_TRY(fdt, program.member_offset("struct files_struct", "fdt"));
  CORONER_TRY(max_fds, program.member_offset("struct fdtable", "max_fds"));
  CORONER_TRY(fd, program.member_offset("struct fdtable", "fd"));
  CORONER_TRY(open_fds, program.member_offset("struct fdtable", "open_fds"));
  CORONER_TRY(f_path, program.member_offset("struct file", "f_path"));
  CORONER_TRY(d_inode, program.member_offset("struct dentry", "d_inode"));
  CORONER_TRY(d_sb, program.member_offset("struct dentry", "d_sb"));
  CORONER_TRY(i_mode, program.member_offset("struct inode", "i_mode"));
  CORONER_TRY(i_sb, program.member_offset("struct inode", "i_sb"));
  l.task_fs = fs, l.task_files = files, l.fs_root = root, l.fs_pwd = pwd, l.path_mnt = mnt, l.path_dentry = dentry;
  l.files_fdt = fdt, l.fdt_max_fds = max_fds, l.fdt_fd = fd, l.fdt_open_fds = open_fds, l.file_path = f_path;
  l.d_inode = d_inode, l.d_sb = d_sb, l.i_mode = i_mode, l.i_sb = i_sb;
  CORONER_TRY(path, path_layout(program));
  l.path = path;
  return l;
}

// The path a struct path at `address` names.
Expected<std::string> path_at(const KernelMemory& memory, const FileLayout& l, uint64_t address) {
  CORONER_TRY(mnt, memory.read_u64(address + l.path_mnt));
  CORONER_TRY(dentry, memory.read_u64(address + l.path_dentry));
  if (dentry == 0) return make_error(Errc::not_found, "struct path {:#x} has no dentry", address);
  return dentry_path(memory, l.path, dentry, mnt);
}

Expected<std::string> inode_type(const KernelMemory& memory, const FileLayout& l, uint64_t inode) {
  CORONER_TRY(mode, memory.read_value<uint16_t>(inode + l.i_mode));  // umode_t
  return std::string(file_type_name(mode));
}

OpenFile read_open_file(const KernelMemory& memory, const FileLayout& l, int64_t fd, uint64_t file) {
  OpenFile f;
  f.fd = fd, f.file = file, f.type = "?";
  auto fail = [&](const Error& e) {
    f.path_error = e.context(fmt::format("fd {} (file {:#x})", fd, file));
    return f;
  };
  auto dentry = memory.read_u64(file + l.file_path + l.path_dentry);
  auto mnt = memory.read_u64(file + l.file_path + l.path_mnt);
  if (!dentry || !mnt) return fail(!dentry ? dentry.error() : mnt.error());
  f.dentry = *dentry;
  if (f.dentry == 0) return f;
  auto inode = memory.read_u64(f.dentry + l.d_inode);
  if (!inode) return fail(inode.error());
  f.inode = *inode;
  if (f.inode) {
    auto type = inode_type(memory, l, f.inode);
    if (!type) return fail(type.error());
    f.type = *type;
  }
  auto path = dentry_path(memory, l.path, f.dentry, *mnt);
  if (!path) return fail(path.error());
  f.path = std::move(*path);
  return f;
}

// The descriptors of the fdtable at `fdt`.
void read_file_table(const KernelMemory& memory, const FileLayout& l, uint64_t fdt, TaskFiles& result) {
  auto max_fds = memory.read_u32(fdt + l.fdt_max_fds);
  auto fd_array = memory.read_u64(fdt + l.fdt_fd);
  auto open_fds = memory.read_u64(fdt + l.fdt_open_fds);
  if (!max_fds || !fd_array || !open_fds) {
    const Error& e = !max_fds ? max_fds.error() : !fd_array ? fd_array.error() : open_fds.error();
    result.skipped.push_back(e.context(fmt::format("fdtable {:#x}", fdt)));
    return;
  }
  uint64_t count = *max_fds;
  if (count > kMaxFds) {
    result.skipped.push_back(make_error(Errc::corrupt, "fdtable {:#x}: max_fds {} exceeds {}; descriptors from {} on "
                                        "were not read", fdt, count, kMaxFds, kMaxFds));
    count = kMaxFds;
  }
  result.has_file_table = true;
  for (uint64_t word = 0; word * 64 < count; ++word) {
    auto bits = memory.read_u64(*open_fds + word * 8);
    if (!bits) {  // the bitmap is one allocation: the rest is lost too
      result.skipped.push_back(bits.error().context(
          fmt::format("open_fds bitmap: descriptors {}-{} were not read", word * 64, count - 1)));
      break;
    }
    for (uint64_t set = *bits; set != 0; set &= set - 1) {
      uint64_t fd = word * 64 + std::countr_zero(set);
      if (fd >= count) break;
      auto file = memory.read_u64(*fd_array + fd * 8);
      if (!file) {
        result.skipped.push_back(file.error().context(fmt::format("fd {}", fd)));
        continue;
      }
      if (*file == 0) continue;  // reserved by open(), not installed yet
      result.files.push_back(read_open_file(memory, l, static_cast<int64_t>(fd), *file));
    }
  }
}

}  // namespace

std::string_view file_type_name(uint32_t mode) {
  switch (mode & 0170000) {  // S_IFMT
    case 0100000: return "REG";
    case 0040000: return "DIR";
    case 0020000: return "CHR";
    case 0060000: return "BLK";
    case 0010000: return "FIFO";
    case 0140000: return "SOCK";
    case 0120000: return "LNK";
    default: return "UNKN";
  }
}

Expected<FileLayout> file_layout(const Program& program) {
  return cached_layout(program, read_file_layout);
}

Expected<TaskFiles> open_files(const Program& program, uint64_t task) {
  CORONER_TRY(layout, file_layout(program));
  return open_files(program.memory(), layout, task);
}

Expected<TaskFiles> open_files(const KernelMemory& memory, const FileLayout& l, uint64_t task) {
  TaskFiles result;
  CORONER_TRY(fs, memory.read_u64(task + l.task_fs));
  if (fs) {
    auto root = path_at(memory, l, fs + l.fs_root);
    auto cwd = path_at(memory, l, fs + l.fs_pwd);
    if (root) result.root = *root;
    else result.skipped.push_back(root.error().context("ROOT"));
    if (cwd) result.cwd = *cwd;
    else result.skipped.push_back(cwd.error().context("CWD"));
  }
  CORONER_TRY(files, memory.read_u64(task + l.task_files));
  if (files == 0) return result;
  auto fdt = memory.read_u64(files + l.files_fdt);
  if (!fdt) {
    result.skipped.push_back(fdt.error().context(fmt::format("files_struct {:#x}", files)));
    return result;
  }
  if (*fdt) read_file_table(memory, l, *fdt, result);
  return result;
}

Expected<std::string> file_path(const Program& program, uint64_t file) {
  CORONER_TRY(l, file_layout(program));
  return path_at(program.memory(), l, file + l.file_path);
}

Expected<DentryInfo> dentry_info(const Program& program, uint64_t dentry) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(l, file_layout(program));
  DentryInfo info;
  info.dentry = dentry;
  info.type = "N/A";
  CORONER_TRY(inode, memory.read_u64(dentry + l.d_inode));
  info.inode = inode;
  if (inode) {
    CORONER_TRY(sb, memory.read_u64(inode + l.i_sb));
    CORONER_TRY(type, inode_type(memory, l, inode));
    info.superblock = sb, info.type = type;
  } else {
    CORONER_TRY(sb, memory.read_u64(dentry + l.d_sb));
    info.superblock = sb;
  }
  if (info.superblock == 0) return info;
  // The path through the last mount of its superblock in the list, as crash.
  uint64_t vfsmount = 0;
  CORONER_TRY(mnt_offset, program.member_offset("struct mount", "mnt"));
  CORONER_TRY(mnt_sb, program.member_offset("struct vfsmount", "mnt_sb"));
  if (auto mounts = initial_mounts(program)) {
    for (uint64_t mount : *mounts) {
      auto sb = memory.read_u64(mount + mnt_offset + mnt_sb);
      if (sb && *sb == info.superblock) vfsmount = mount + mnt_offset;
    }
  }
  CORONER_TRY(path, dentry_path(memory, l.path, dentry, vfsmount));
  info.path = std::move(path);
  return info;
}

}  // namespace coroner::linux_kernel
