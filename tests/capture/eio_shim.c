// LD_PRELOAD library for the capture tests: makes one file look like
// /proc/vmcore whose pages in one range fail to read with EIO, as a capture
// kernel's /proc/vmcore does for memory the firmware withholds.
//   CORONER_EIO_FILE    the file (as /proc/self/fd/N names it)
//   CORONER_EIO_OFFSET  first byte that fails (decimal)
//   CORONER_EIO_LENGTH  bytes that fail from there
// fstatfs on that file reports procfs, so coroner reads it with pread, and
// every pread overlapping the range fails.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <unistd.h>

static int is_target(int fd) {
  const char* target = getenv("CORONER_EIO_FILE");
  if (!target) return 0;
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n < 0) return 0;
  path[n] = 0;
  return strcmp(path, target) == 0;
}

static int overlaps(off_t offset, size_t count) {
  const char* from = getenv("CORONER_EIO_OFFSET");
  const char* length = getenv("CORONER_EIO_LENGTH");
  if (!from || !length) return 0;
  unsigned long long start = strtoull(from, NULL, 10), end = start + strtoull(length, NULL, 10);
  unsigned long long a = (unsigned long long)offset, b = a + count;
  return a < end && start < b;
}

int fstatfs(int fd, struct statfs* buf) {
  int (*real)(int, struct statfs*) = (int (*)(int, struct statfs*))dlsym(RTLD_NEXT, "fstatfs");
  int result = real(fd, buf);
  if (result == 0 && is_target(fd)) buf->f_type = PROC_SUPER_MAGIC;
  return result;
}

int fstatfs64(int fd, struct statfs64* buf) {
  int (*real)(int, struct statfs64*) = (int (*)(int, struct statfs64*))dlsym(RTLD_NEXT, "fstatfs64");
  int result = real(fd, buf);
  if (result == 0 && is_target(fd)) buf->f_type = PROC_SUPER_MAGIC;
  return result;
}

static ssize_t failing_pread(const char* name, int fd, void* buf, size_t count, off_t offset) {
  if (count && is_target(fd) && overlaps(offset, count)) {
    errno = EIO;
    return -1;
  }
  ssize_t (*real)(int, void*, size_t, off_t) = (ssize_t (*)(int, void*, size_t, off_t))dlsym(RTLD_NEXT, name);
  return real(fd, buf, count, offset);
}

ssize_t pread(int fd, void* buf, size_t count, off_t offset) { return failing_pread("pread", fd, buf, count, offset); }
ssize_t pread64(int fd, void* buf, size_t count, off_t offset) {
  return failing_pread("pread64", fd, buf, count, offset);
}
