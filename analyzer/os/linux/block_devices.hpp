// Block devices as crash's `dev` and `dev -d` show them: the majors
// registered in major_names[] (blk_major_name chains) with a gendisk of
// each and its block_device_operations, and every disk (a gendisk of the
// block device inodes of blockdev_superblock) with its request queue and
// the requests in flight there (blk-mq: the requests of each hardware
// queue's tags in state MQ_RQ_IN_FLIGHT, reads and writes apart). Offsets
// from DWARF; walks bounded, an unreadable entry costs only itself.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

struct BlockMajor {
  uint32_t major = 0;
  std::string name;
  uint64_t gendisk = 0;     // 0: no disk of this major found
  uint64_t operations = 0;  // gendisk->fops
};

struct Disk {
  uint64_t gendisk = 0;
  uint32_t major = 0, first_minor = 0;
  std::string name;  // disk_name: "vda"
  uint64_t queue = 0;
  uint64_t operations = 0;
  // Requests in flight; nullopt when they could not be counted (a queue
  // without blk-mq, before 5.0, or an unreadable tag set).
  std::optional<uint64_t> reads, writes;
};

struct BlockDevices {
  std::vector<BlockMajor> majors;  // by major_names[] slot, then chain order
  std::vector<Disk> disks;         // by major, then first minor
  std::vector<Error> skipped;
};
Expected<BlockDevices> block_devices(const Program& program);

// Calls `visit` with each inode of blockdev_superblock (one per block
// device), bounded; used by dev -d and by kmem -i's BUFFERS.
Expected<void> for_each_block_device_inode(const Program& program,
                                           const std::function<Expected<void>(uint64_t inode)>& visit);

}  // namespace coroner::linux_kernel
