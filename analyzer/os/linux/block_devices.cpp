#include "analyzer/os/linux/block_devices.hpp"

#include "analyzer/object.hpp"
#include "analyzer/os/linux/kernel_trees.hpp"
#include "analyzer/os/linux/list_walk.hpp"

#include <algorithm>
#include <set>

namespace coroner::linux_kernel {

namespace {

constexpr size_t kMaxChain = 1 << 12;        // majors in one major_names[] slot
constexpr size_t kMaxBlockInodes = 1 << 20;
constexpr uint64_t kMaxTags = 1 << 16;       // requests of one tag set
constexpr uint64_t kMaxHardwareQueues = 1 << 12;
constexpr uint32_t kReqOpMask = 0xff;        // REQ_OP_BITS: 8; odd operations write

// Every gendisk that a block device inode of blockdev_superblock points to.
Expected<std::vector<uint64_t>> inode_gendisks(const Program& program) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(bd_disk, program.member_offset("struct block_device", "bd_disk"));
  // The inode follows its block_device in a struct bdev_inode.
  auto vfs_inode = program.member_offset("struct bdev_inode", "vfs_inode");
  if (!vfs_inode) vfs_inode = program.type_size("struct block_device");
  if (!vfs_inode) return vfs_inode.error();
  std::vector<uint64_t> disks;
  CORONER_CHECK(for_each_block_device_inode(program, [&](uint64_t inode) -> Expected<void> {
    auto disk = memory.read_u64(inode - *vfs_inode + bd_disk);
    if (disk && *disk && std::find(disks.begin(), disks.end(), *disk) == disks.end()) disks.push_back(*disk);
    return {};
  }));
  return disks;
}

// The hardware queues of a request queue: hctx_table (an xarray, 5.19+) or
// the queue_hw_ctx array of nr_hw_queues.
Expected<std::vector<uint64_t>> hardware_queues(const Program& program, uint64_t queue) {
  const KernelMemory& memory = program.memory();
  std::vector<uint64_t> queues;
  if (auto table = program.member_offset("struct request_queue", "hctx_table")) {
    CORONER_TRY(layout, xarray_layout(program));
    CORONER_TRY(entries, walk_xarray(memory, layout, queue + *table, kMaxHardwareQueues));
    for (const IndexedEntry& e : entries) queues.push_back(e.value);
    return queues;
  }
  CORONER_TRY(array_offset, program.member_offset("struct request_queue", "queue_hw_ctx"));
  CORONER_TRY(count_offset, program.member_offset("struct request_queue", "nr_hw_queues"));
  CORONER_TRY(array, memory.read_u64(queue + array_offset));
  CORONER_TRY(count, memory.read_u32(queue + count_offset));
  if (count > kMaxHardwareQueues) return make_error(Errc::corrupt, "request_queue {:#x}: {} hardware queues", queue, count);
  for (uint32_t i = 0; i < count; ++i) {
    CORONER_TRY(hctx, memory.read_u64(array + 8 * i));
    queues.push_back(hctx);
  }
  return queues;
}

// The requests of `queue` in flight: those of its hardware queues' tags
// (shared tag sets once) whose state is MQ_RQ_IN_FLIGHT.
Expected<void> count_in_flight(const Program& program, Disk& disk) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(mq_ops, program.member_offset("struct request_queue", "mq_ops"));
  CORONER_TRY(ops, memory.read_u64(disk.queue + mq_ops));
  if (!ops) return make_error(Errc::unsupported, "{}: a request queue without blk-mq", disk.name);
  CORONER_TRY(debug, program.debug_info());
  CORONER_TRY(in_flight, debug->find_enumerator("MQ_RQ_IN_FLIGHT"));
  CORONER_TRY(hctx_tags, program.member_offset("struct blk_mq_hw_ctx", "tags"));
  CORONER_TRY(nr_tags, program.member_offset("struct blk_mq_tags", "nr_tags"));
  CORONER_TRY(rqs, program.member_offset("struct blk_mq_tags", "rqs"));
  CORONER_TRY(rq_queue, program.member_offset("struct request", "q"));
  CORONER_TRY(rq_flags, program.member_offset("struct request", "cmd_flags"));
  CORONER_TRY(rq_state, program.member_offset("struct request", "state"));
  CORONER_TRY(hctxs, hardware_queues(program, disk.queue));
  std::set<uint64_t> seen_tags;
  uint64_t reads = 0, writes = 0;
  for (uint64_t hctx : hctxs) {
    CORONER_TRY(tags, memory.read_u64(hctx + hctx_tags));
    if (!tags || !seen_tags.insert(tags).second) continue;
    CORONER_TRY(count, memory.read_u32(tags + nr_tags));
    CORONER_TRY(requests, memory.read_u64(tags + rqs));
    if (count > kMaxTags) return make_error(Errc::corrupt, "blk_mq_tags {:#x}: {} tags", tags, count);
    for (uint32_t tag = 0; tag < count && requests; ++tag) {
      CORONER_TRY(rq, memory.read_u64(requests + 8 * tag));
      if (!rq) continue;
      CORONER_TRY(q, memory.read_u64(rq + rq_queue));
      CORONER_TRY(state, memory.read_u32(rq + rq_state));
      if (q != disk.queue || state != static_cast<uint64_t>(in_flight)) continue;
      CORONER_TRY(flags, memory.read_u32(rq + rq_flags));
      ((flags & kReqOpMask) & 1 ? writes : reads) += 1;
    }
  }
  disk.reads = reads, disk.writes = writes;
  return {};
}

Expected<Disk> read_disk(const Program& program, uint64_t gendisk) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(major, program.member_offset("struct gendisk", "major"));
  CORONER_TRY(first_minor, program.member_offset("struct gendisk", "first_minor"));
  CORONER_TRY(name, program.member_offset("struct gendisk", "disk_name"));
  CORONER_TRY(queue, program.member_offset("struct gendisk", "queue"));
  CORONER_TRY(fops, program.member_offset("struct gendisk", "fops"));
  Disk disk;
  disk.gendisk = gendisk;
  CORONER_TRY(major_value, memory.read_u32(gendisk + major));
  CORONER_TRY(minor_value, memory.read_u32(gendisk + first_minor));
  CORONER_TRY(queue_value, memory.read_u64(gendisk + queue));
  CORONER_TRY(fops_value, memory.read_u64(gendisk + fops));
  disk.major = major_value, disk.first_minor = minor_value, disk.queue = queue_value, disk.operations = fops_value;
  disk.name = memory.read_string(gendisk + name, 32).value_or("");
  return disk;
}

}  // namespace

Expected<BlockDevices> block_devices(const Program& program) {
  const KernelMemory& memory = program.memory();
  BlockDevices result;
  // The disks first: each major is shown with one of them.
  auto gendisks = inode_gendisks(program);
  if (!gendisks) result.skipped.push_back(gendisks.error().context("block device inodes"));
  for (uint64_t gendisk : gendisks.value_or(std::vector<uint64_t>())) {
    auto disk = read_disk(program, gendisk);
    if (!disk) {
      result.skipped.push_back(disk.error().context(fmt::format("gendisk {:#x}", gendisk)));
      continue;
    }
    if (auto counted = count_in_flight(program, *disk); !counted)
      result.skipped.push_back(counted.error().context(fmt::format("{} requests in flight", disk->name)));
    result.disks.push_back(std::move(*disk));
  }
  // The inode list is newest first; crash lists disks in the order they were added.
  std::stable_sort(result.disks.begin(), result.disks.end(), [](const Disk& a, const Disk& b) {
    return std::tie(a.major, a.first_minor) < std::tie(b.major, b.first_minor);
  });

  CORONER_TRY(names, find_kernel_global(program, "major_names"));
  CORONER_TRY(bytes, names.object.byte_size());
  CORONER_TRY(next, program.member_offset("struct blk_major_name", "next"));
  CORONER_TRY(major, program.member_offset("struct blk_major_name", "major"));
  CORONER_TRY(name, program.member_offset("struct blk_major_name", "name"));
  for (uint64_t slot = 0; slot < bytes / 8; ++slot) {
    auto entry = memory.read_u64(*names.object.address() + slot * 8);
    for (size_t chained = 0; entry && *entry && chained < kMaxChain; ++chained) {
      BlockMajor m;
      auto number = memory.read_u32(*entry + major);
      if (!number) {
        entry = number.error();
        break;
      }
      m.major = *number;
      m.name = memory.read_string(*entry + name, 16).value_or("");
      // crash shows the first disk it meets in the inode list, the newest.
      for (auto d = result.disks.rbegin(); d != result.disks.rend(); ++d)
        if (d->major == m.major && d->operations) {
          m.gendisk = d->gendisk, m.operations = d->operations;
          break;
        }
      result.majors.push_back(std::move(m));
      entry = memory.read_u64(*entry + next);
    }
    if (!entry) result.skipped.push_back(entry.error().context(fmt::format("major_names[{}]", slot)));
  }
  return result;
}

Expected<void> for_each_block_device_inode(const Program& program,
                                           const std::function<Expected<void>(uint64_t inode)>& visit) {
  const KernelMemory& memory = program.memory();
  CORONER_TRY(sb_symbol, program.symbol_address("blockdev_superblock"));
  CORONER_TRY(sb, memory.read_u64(sb_symbol));
  CORONER_TRY(s_inodes, program.member_offset("struct super_block", "s_inodes"));
  CORONER_TRY(i_sb_list, program.member_offset("struct inode", "i_sb_list"));
  ListBudget budget{kMaxBlockInodes};
  return walk_list(memory, "block device inodes", sb + s_inodes, i_sb_list, budget, visit);
}

}  // namespace coroner::linux_kernel
