// open_files() on a synthetic task in fake memory: descriptors from the
// open_fds bitmap, and the bounds -- a max_fds no kernel allows is read only
// up to the bound and said so, an unreadable bitmap or file loses only
// itself. The fixtures' real file tables are checked through `files`.
#include "analyzer/os/linux/open_files.hpp"
#include "tests/analyzer/os/linux/fake_kernel.hpp"

#include <catch2/catch.hpp>

namespace coroner::test {

using namespace linux_kernel;

namespace {

constexpr uint64_t kTask = 0x1000, kFiles = 0x2000, kFdt = 0x3000, kFdArray = 0x4000, kOpenFds = 0x50000;
constexpr uint64_t kFile = 0x6000, kDentry = 0x7000, kInode = 0x8000;

FileLayout fake_layout() {
  FileLayout l;
  l.task_fs = 0x10, l.task_files = 0x18;
  l.path_mnt = 0x0, l.path_dentry = 0x8;
  l.files_fdt = 0x20, l.fdt_max_fds = 0x0, l.fdt_fd = 0x8, l.fdt_open_fds = 0x18;
  l.file_path = 0x10;
  l.d_inode = 0x28, l.i_mode = 0x0;
  l.path.d_parent = 0x10, l.path.d_name_len = 0x1c, l.path.d_name_name = 0x20, l.path.d_inode = 0x28;
  l.path.d_op = 0x30, l.path.d_hash_pprev = 0x08;
  return l;
}

struct FakeTask {
  FakeKernel k;
  FileLayout l = fake_layout();

  explicit FakeTask(uint32_t max_fds) {
    for (uint64_t page : {kTask, kFiles, kFdt, kFdArray, kOpenFds, kFile, kDentry, kInode}) k.phys.map(page, 0x1000);
    k.phys.put<uint64_t>(kTask + l.task_files, kFiles);
    k.phys.put<uint64_t>(kFiles + l.files_fdt, kFdt);
    k.phys.put<uint32_t>(kFdt + l.fdt_max_fds, max_fds);
    k.phys.put<uint64_t>(kFdt + l.fdt_fd, kFdArray);
    k.phys.put<uint64_t>(kFdt + l.fdt_open_fds, kOpenFds);
    // A regular file "/data" (a root dentry's child, no mount).
    k.phys.put<uint64_t>(kFile + l.file_path + l.path_dentry, kDentry);
    k.phys.put<uint64_t>(kDentry + l.d_inode, kInode);
    k.phys.put<uint64_t>(kDentry + l.path.d_hash_pprev, 1);
    k.phys.put<uint64_t>(kDentry + l.path.d_parent, kDentry + 0x100);
    k.phys.put<uint64_t>(kDentry + 0x100 + l.path.d_parent, kDentry + 0x100);
    k.phys.put<uint32_t>(kDentry + l.path.d_name_len, 4);
    k.phys.put<uint64_t>(kDentry + l.path.d_name_name, kDentry + 0x800);
    k.phys.write(kDentry + 0x800, "data", 5);
    k.phys.put<uint16_t>(kInode + l.i_mode, 0100644);
  }
  void open(uint64_t fd) {
    uint64_t word = kOpenFds + fd / 64 * 8;
    auto bits = k.memory.read_u64(word);
    k.phys.put<uint64_t>(word, bits.value() | uint64_t{1} << (fd % 64));
    k.phys.put<uint64_t>(kFdArray + fd * 8, kFile);
  }
};

}  // namespace

TEST_CASE("open_files lists the descriptors of the open_fds bitmap", "[open_files]") {
  FakeTask t(256);
  for (uint64_t fd : {0, 1, 2, 65, 200}) t.open(fd);
  auto files = open_files(t.k.memory, t.l, kTask);
  REQUIRE(files);
  CHECK_FALSE(files->root);  // no fs_struct
  CHECK(files->skipped.empty());
  std::vector<int64_t> fds;
  for (const auto& f : files->files) {
    fds.push_back(f.fd);
    CHECK(f.type == "REG");
    CHECK(f.path == "/data");
    CHECK(f.inode == kInode);
  }
  CHECK(fds == std::vector<int64_t>{0, 1, 2, 65, 200});
}

TEST_CASE("open_files is bounded: a huge max_fds, an unreadable bitmap or file", "[open_files]") {
  SECTION("max_fds beyond any kernel's limit") {
    FakeTask t(0xffffffff);
    t.open(3);
    auto files = open_files(t.k.memory, t.l, kTask);
    REQUIRE(files);
    REQUIRE(files->files.size() == 1);
    CHECK(files->files[0].fd == 3);
    // The limit, then the bitmap's end (fake memory holds one page of it).
    REQUIRE(files->skipped.size() == 2);
    CHECK_THAT(files->skipped[0].message(), Catch::Contains("max_fds 4294967295"));
    CHECK_THAT(files->skipped[1].message(), Catch::Contains("open_fds bitmap: descriptors 32768-"));
  }
  SECTION("an unreadable file loses only its path") {
    FakeTask t(64);
    t.open(0);
    t.open(1);
    t.k.phys.put<uint64_t>(kFdArray + 8, 0x90000);  // not in the dump
    auto files = open_files(t.k.memory, t.l, kTask);
    REQUIRE(files);
    REQUIRE(files->files.size() == 2);
    CHECK(files->files[0].path == "/data");
    REQUIRE(files->files[1].path_error);
    CHECK_THAT(files->files[1].path_error->message(), Catch::Contains("fd 1"));
  }
}

}  // namespace coroner::test
