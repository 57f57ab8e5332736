// A task's open files: its root and working directory (task->fs) and each
// descriptor of its file table (task->files->fdt: open_fds bitmap, fd[])
// with the file's dentry, inode, type and path. Bounded: a file table
// larger than any kernel allows is read only up to that bound, and an
// unreadable descriptor loses only itself.
#pragma once

#include "analyzer/os/linux/dentry_path.hpp"
#include "analyzer/program.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

// The inode's type from i_mode as crash names it: "REG", "DIR", "CHR",
// "BLK", "FIFO", "SOCK", "LNK", else "UNKN".
std::string_view file_type_name(uint32_t mode);

struct OpenFile {
  int64_t fd = 0;
  uint64_t file = 0, dentry = 0, inode = 0;
  std::string type;                  // file_type_name(); "?" without an inode
  std::string path;                  // "" when it could not be built
  std::optional<Error> path_error;   // why not
};

struct TaskFiles {
  // fs->root and fs->pwd; nullopt without a fs_struct (an exiting task).
  std::optional<std::string> root, cwd;
  bool has_file_table = false;       // files and its fdtable exist
  std::vector<OpenFile> files;       // by descriptor
  std::vector<Error> skipped;        // descriptors or ranges that could not be read
};

// Offsets from DWARF (read once per program).
struct FileLayout {
  uint64_t task_fs = 0, task_files = 0;
  uint64_t fs_root = 0, fs_pwd = 0, path_mnt = 0, path_dentry = 0;
  uint64_t files_fdt = 0, fdt_max_fds = 0, fdt_fd = 0, fdt_open_fds = 0;
  uint64_t file_path = 0;  // file.f_path (a struct path)
  uint64_t d_inode = 0, d_sb = 0, i_mode = 0, i_sb = 0;
  PathLayout path;
};
Expected<FileLayout> file_layout(const Program& program);

Expected<TaskFiles> open_files(const KernelMemory& memory, const FileLayout& layout, uint64_t task);
Expected<TaskFiles> open_files(const Program& program, uint64_t task);

// The path of the struct file at `file` (its f_path), e.g. a VMA's vm_file.
Expected<std::string> file_path(const Program& program, uint64_t file);

// What crash's `files -d` shows of a dentry: its inode and superblock, the
// type, and its path through a mount of its superblock (from init's mount
// namespace), else within its file system.
struct DentryInfo {
  uint64_t dentry = 0, inode = 0, superblock = 0;
  std::string type;  // "N/A" without an inode
  std::string path;
};
Expected<DentryInfo> dentry_info(const Program& program, uint64_t dentry);

}  // namespace coroner::linux_kernel
