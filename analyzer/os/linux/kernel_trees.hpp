// Walkers for the kernel's search trees: red-black trees (rb_root/rb_node),
// radix trees and XArrays (radix_tree_root/radix_tree_node before 4.20,
// xarray/xa_node since), and maple trees (maple_tree/maple_node, 6.1+).
// Each returns the addresses the tree holds. Offsets come from DWARF
// (the *_layout functions); the walks take a layout and KernelMemory so
// they can run on any memory. Every walk is bounded (entries, depth) and
// checks the tree's own links, so a corrupt or looping tree ends with an
// error naming the node.
#pragma once

#include "analyzer/program.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace coroner::linux_kernel {

constexpr size_t kDefaultTreeLimit = size_t{1} << 22;

// --- red-black trees -------------------------------------------------------

struct RbTreeLayout {
  uint64_t root_node = 0;     // rb_root.rb_node
  uint64_t parent_color = 0;  // rb_node.__rb_parent_color
  uint64_t right = 0;         // rb_node.rb_right
  uint64_t left = 0;          // rb_node.rb_left
};
Expected<RbTreeLayout> rbtree_layout(const Program& program);

enum class RbOrder { top_down, linear };  // crash's default, and `tree -l`

struct RbNode {
  uint64_t address = 0;  // the rb_node
  unsigned depth = 0;    // 0 for the root
  uint64_t path = 0;     // bit i set: the step from depth i went right
  std::string position() const;  // crash's "root/l/r"
};

// The nodes of the tree whose rb_root is at `root` (or, with from_node,
// whose top rb_node is at `root`). Checks each child's parent pointer.
Expected<std::vector<RbNode>> walk_rbtree(const KernelMemory& memory, const RbTreeLayout& layout, uint64_t root,
                                          RbOrder order, bool from_node = false,
                                          size_t limit = kDefaultTreeLimit);

// --- radix trees and XArrays -----------------------------------------------

struct XArrayLayout {
  // true: XArray encoding (4.20+; radix_tree_root is an xarray). false: the
  // radix tree of 4.7..4.19 (internal node pointers tagged with bit 0).
  bool xarray = true;
  uint64_t head = 0;        // xarray.xa_head / radix_tree_root.rnode
  uint64_t node_shift = 0;  // xa_node.shift (u8)
  uint64_t node_slots = 0;  // xa_node.slots
  unsigned slot_count = 0;  // XA_CHUNK_SIZE / RADIX_TREE_MAP_SIZE
};
Expected<XArrayLayout> xarray_layout(const Program& program);

struct IndexedEntry {
  uint64_t index = 0;
  uint64_t value = 0;  // the entry: a pointer, or a value entry (bit 0 set)
  unsigned height = 0;  // levels of nodes above it (0: stored in the root)
  std::vector<uint16_t> slots;  // slot taken at each level, from the top
};

// Every non-NULL entry with its index, in index order; internal entries
// (siblings, retry, zero) are not entries.
Expected<std::vector<IndexedEntry>> walk_xarray(const KernelMemory& memory, const XArrayLayout& layout, uint64_t root,
                                                size_t limit = kDefaultTreeLimit);

// --- maple trees -------------------------------------------------------------

struct MapleTreeLayout {
  uint64_t root = 0;  // maple_tree.ma_root
  // maple_node as maple_range_64 (leaf_64 and range_64 nodes), as
  // maple_arange_64, and its dense slots.
  // *_meta_end: the byte maple_metadata.end, the last slot in use, which
  // arange_64 nodes always keep and range nodes when not full (pivots past
  // it are stale, not zeroed).
  uint64_t range_pivots = 0, range_slots = 0, range_meta_end = 0;
  unsigned range_slot_count = 0;
  uint64_t arange_pivots = 0, arange_slots = 0, arange_meta_end = 0;
  unsigned arange_slot_count = 0;
  uint64_t dense_slots = 0;
  unsigned dense_slot_count = 0;
  // enum maple_type values.
  uint64_t type_dense = 0, type_leaf_64 = 1, type_range_64 = 2, type_arange_64 = 3;
};
Expected<MapleTreeLayout> maple_tree_layout(const Program& program);

struct RangeEntry {
  uint64_t first = 0, last = 0;  // the indexes the entry covers
  uint64_t value = 0;
};

// Every non-NULL entry of the maple tree at `root` with its range, in order.
Expected<std::vector<RangeEntry>> walk_maple_tree(const KernelMemory& memory, const MapleTreeLayout& layout,
                                                  uint64_t root, size_t limit = kDefaultTreeLimit);

}  // namespace coroner::linux_kernel
