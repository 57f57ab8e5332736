// dentry_path() on synthetic dentries and mounts in fake memory: a path
// across a mount point, a removed file, a pipe named by d_dname, and the
// bounds (a d_parent loop, a path longer than PATH_MAX). The real paths of
// the fixtures are checked through `files` and `vm` (tests/commands).
#include "analyzer/os/linux/dentry_path.hpp"
#include "tests/analyzer/os/linux/fake_kernel.hpp"

#include <catch2/catch.hpp>

namespace coroner::test {

using namespace linux_kernel;

namespace {

PathLayout fake_layout() {
  PathLayout l;
  l.d_hash_pprev = 0x08, l.d_parent = 0x10, l.d_name_len = 0x1c, l.d_name_name = 0x20, l.d_inode = 0x28;
  l.d_op = 0x30, l.d_dname = 0x8, l.i_ino = 0x40;
  l.mount_mnt = 0x20, l.mnt_parent = 0x08, l.mnt_mountpoint = 0x10, l.mnt_root = 0x0;
  l.pipefs_dname = 0xffff0000;
  return l;
}

struct Fs {
  FakeKernel k;
  PathLayout l = fake_layout();
  uint64_t next_name = 0x100000;

  // A hashed dentry at `at` named `name` under `parent` (itself for a root).
  void dentry(uint64_t at, uint64_t parent, const std::string& name) {
    k.phys.map(at, 0x100);
    k.phys.put<uint64_t>(at + l.d_hash_pprev, 0x1234);
    k.phys.put<uint64_t>(at + l.d_parent, parent);
    k.phys.put<uint32_t>(at + l.d_name_len, static_cast<uint32_t>(name.size()));
    k.phys.put<uint64_t>(at + l.d_name_name, next_name);
    k.phys.write(next_name, name.c_str(), name.size() + 1);
    next_name += name.size() + 1;
  }
  // A struct mount at `at`; returns its vfsmount.
  uint64_t mount(uint64_t at, uint64_t root, uint64_t parent, uint64_t mountpoint) {
    k.phys.map(at, 0x100);
    k.phys.put<uint64_t>(at + l.mnt_parent, parent);
    k.phys.put<uint64_t>(at + l.mnt_mountpoint, mountpoint);
    k.phys.put<uint64_t>(at + l.mount_mnt + l.mnt_root, root);
    return at + l.mount_mnt;
  }
};

}  // namespace

TEST_CASE("dentry_path crosses mount points to the root mount", "[dentry_path]") {
  Fs fs;
  fs.dentry(0x1000, 0x1000, "/");         // rootfs root
  fs.dentry(0x1100, 0x1000, "dev");       // /dev, the mount point
  fs.dentry(0x2000, 0x2000, "/");         // devtmpfs root
  fs.dentry(0x2100, 0x2000, "console");
  uint64_t root = fs.mount(0x8000, 0x1000, 0x8000, 0x1000);
  uint64_t dev = fs.mount(0x9000, 0x2000, 0x8000, 0x1100);
  CHECK(dentry_path(fs.k.memory, fs.l, 0x2100, dev).value() == "/dev/console");
  CHECK(dentry_path(fs.k.memory, fs.l, 0x1100, root).value() == "/dev");
  CHECK(dentry_path(fs.k.memory, fs.l, 0x2000, dev).value() == "/dev");
  CHECK(dentry_path(fs.k.memory, fs.l, 0x1000, root).value() == "/");
  // Without a mount: the path within its file system.
  CHECK(dentry_path(fs.k.memory, fs.l, 0x2100, 0).value() == "/console");

  SECTION("a removed file (unhashed) ends in (deleted)") {
    fs.k.phys.put<uint64_t>(0x2100 + fs.l.d_hash_pprev, 0);
    CHECK(dentry_path(fs.k.memory, fs.l, 0x2100, dev).value() == "/dev/console (deleted)");
  }
  SECTION("a pipe is named by its d_dname: pipe:[inode number]") {
    fs.k.phys.map(0x3000, 0x100);
    fs.k.phys.put<uint64_t>(0x3000 + fs.l.d_dname, fs.l.pipefs_dname);
    fs.k.phys.put<uint64_t>(0x2100 + fs.l.d_op, 0x3000);
    fs.k.phys.put<uint64_t>(0x2100 + fs.l.d_inode, 0x4000);
    fs.k.phys.put<uint64_t>(0x4000 + fs.l.i_ino, 4242);
    CHECK(dentry_path(fs.k.memory, fs.l, 0x2100, dev).value() == "pipe:[4242]");
  }
  SECTION("an unreadable parent is one error naming the dentry") {
    fs.k.phys.remove_page(0x1000);
    auto path = dentry_path(fs.k.memory, fs.l, 0x2100, dev);
    REQUIRE_FALSE(path);
    CHECK_THAT(path.error().message(), Catch::Contains("path of dentry 0x2100"));
  }
}

TEST_CASE("dentry_path is bounded: loops and overlong paths are errors", "[dentry_path]") {
  Fs fs;
  SECTION("a d_parent loop") {
    fs.dentry(0x1000, 0x1100, "a");
    fs.dentry(0x1100, 0x1000, "b");
    auto path = dentry_path(fs.k.memory, fs.l, 0x1000, 0);
    REQUIRE_FALSE(path);
    CHECK_THAT(path.error().message(), Catch::Contains("reached twice"));
  }
  SECTION("a mount loop") {
    fs.dentry(0x1000, 0x1000, "/");
    fs.dentry(0x2000, 0x2000, "/");
    uint64_t a = fs.mount(0x8000, 0x1000, 0x9000, 0x2000);
    fs.mount(0x9000, 0x2000, 0x8000, 0x1000);
    auto path = dentry_path(fs.k.memory, fs.l, 0x1000, a);
    REQUIRE_FALSE(path);
    CHECK_THAT(path.error().message(), Catch::Contains("reached twice"));
  }
  SECTION("deeper than PATH_MAX") {
    const std::string name(100, 'x');
    fs.dentry(0x10000, 0x10000, "/");
    for (uint64_t i = 1; i <= 50; ++i) fs.dentry(0x10000 + i * 0x100, 0x10000 + (i - 1) * 0x100, name);
    auto path = dentry_path(fs.k.memory, fs.l, 0x10000 + 50 * 0x100, 0);
    REQUIRE_FALSE(path);
    CHECK_THAT(path.error().message(), Catch::Contains("PATH_MAX"));
  }
  SECTION("an implausible name length") {
    fs.dentry(0x1000, 0x1000, "/");
    fs.dentry(0x1100, 0x1000, "a");
    fs.k.phys.put<uint32_t>(0x1100 + fs.l.d_name_len, 100000);
    auto path = dentry_path(fs.k.memory, fs.l, 0x1100, 0);
    REQUIRE_FALSE(path);
    CHECK_THAT(path.error().message(), Catch::Contains("NAME_MAX"));
  }
}

}  // namespace coroner::test
