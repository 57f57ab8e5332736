#include "analyzer/os/linux/kernel_trees.hpp"

#include <unordered_set>

namespace coroner::linux_kernel {

namespace {

constexpr unsigned kMaxRbDepth = 128;  // 2*log2(n+1) for any n that fits in memory
constexpr unsigned kMaxXArrayLevels = 64;
constexpr unsigned kMaxMapleHeight = 31;  // MAPLE_HEIGHT_MAX

// The element count of an array member (xa_node.slots).
Expected<unsigned> array_length(const Program& program, std::string_view type, std::string_view member) {
  CORONER_TRY(debug, program.debug_info());
  CORONER_TRY(location, debug->find_member(type, member));
  CORONER_TRY(array, symbols::underlying(location.type));
  if (array->kind() != symbols::TypeKind::array || !array->length() || *array->length() == 0 ||
      *array->length() > 4096)
    return make_error(Errc::corrupt, "{}.{} is not an array of known length", type, member);
  return static_cast<unsigned>(*array->length());
}

Expected<uint64_t> enumerator(const Program& program, std::string_view name) {
  CORONER_TRY(debug, program.debug_info());
  CORONER_TRY(value, debug->find_enumerator(name));
  return static_cast<uint64_t>(value);
}

// A guard against revisiting nodes and against unbounded trees.
class Visits {
 public:
  Visits(std::string_view what, uint64_t root, size_t limit) : what_(what), root_(root), limit_(limit) {}
  Expected<void> enter(uint64_t node) {
    if (!seen_.insert(node).second)
      return make_error(Errc::corrupt, "{} at {:#x}: node {:#x} is reached twice (a loop)", what_, root_, node);
    if (seen_.size() > limit_)
      return make_error(Errc::corrupt, "{} at {:#x}: more than {} nodes", what_, root_, limit_);
    return {};
  }
  Expected<void> count_entry(size_t entries) const {
    if (entries > limit_) return make_error(Errc::corrupt, "{} at {:#x}: more than {} entries", what_, root_, limit_);
    return {};
  }

 private:
  std::string_view what_;
  uint64_t root_;
  size_t limit_;
  std::unordered_set<uint64_t> seen_;
};

}  // namespace

// --- red-black trees -------------------------------------------------------

Expected<RbTreeLayout> rbtree_layout(const Program& program) {
  RbTreeLayout l;
  CORONER_TRY(root_node, program.member_offset("struct rb_root", "rb_node"));
  CORONER_TRY(parent_color, program.member_offset("struct rb_node", "__rb_parent_color"));
  CORONER_TRY(right, program.member_offset("struct rb_node", "rb_right"));
  CORONER_TRY(left, program.member_offset("struct rb_node", "rb_left"));
  l.root_node = root_node, l.parent_color = parent_color, l.right = right, l.left = left;
  return l;
}

std::string RbNode::position() const {
  std::string text = "root";
  for (unsigned i = 0; i < depth; ++i) text += (path >> i) & 1 ? "/r" : "/l";
  return text;
}

Expected<std::vector<RbNode>> walk_rbtree(const KernelMemory& memory, const RbTreeLayout& layout, uint64_t root,
                                          RbOrder order, bool from_node, size_t limit) {
  uint64_t top = root;
  if (!from_node) {
    CORONER_TRY(node, memory.read_u64(root + layout.root_node));
    top = node;
  }
  std::vector<RbNode> result;
  if (top == 0) return result;
  Visits visits("rbtree", root, limit);

  struct Pending {
    RbNode node;
    uint64_t parent;  // 0 for the top node, whose parent is not checked
    bool expanded;    // linear order: children already pushed
  };
  std::vector<Pending> stack{{RbNode{top, 0, 0}, 0, false}};
  while (!stack.empty()) {
    Pending p = stack.back();
    stack.pop_back();
    const RbNode& n = p.node;
    if (p.expanded) {
      result.push_back(n);
      continue;
    }
    CORONER_CHECK(visits.enter(n.address));
    if (n.depth >= kMaxRbDepth)
      return make_error(Errc::corrupt, "rbtree at {:#x}: deeper than {} levels at node {:#x}", root, kMaxRbDepth,
                        n.address);
    CORONER_TRY(parent_color, memory.read_u64(n.address + layout.parent_color));
    if (p.parent && (parent_color & ~uint64_t{3}) != p.parent)
      return make_error(Errc::corrupt, "rbtree at {:#x}: node {:#x} names parent {:#x}, but hangs below {:#x}", root,
                        n.address, parent_color & ~uint64_t{3}, p.parent);
    CORONER_TRY(left, memory.read_u64(n.address + layout.left));
    CORONER_TRY(right, memory.read_u64(n.address + layout.right));
    RbNode left_node{left, n.depth + 1, n.path};
    RbNode right_node{right, n.depth + 1, n.depth < 64 ? n.path | (uint64_t{1} << n.depth) : n.path};
    // A stack: push in the reverse of the visiting order.
    if (right) stack.push_back({right_node, n.address, false});
    if (order == RbOrder::linear) stack.push_back({n, 0, true});
    if (left) stack.push_back({left_node, n.address, false});
    if (order == RbOrder::top_down) result.push_back(n);
  }
  return result;
}

// --- radix trees and XArrays -----------------------------------------------

Expected<XArrayLayout> xarray_layout(const Program& program) {
  XArrayLayout l;
  CORONER_TRY(debug, program.debug_info());
  auto is_xarray = debug->has_member("struct xarray", "xa_head");
  l.xarray = is_xarray && *is_xarray;
  const char* root_type = l.xarray ? "xarray" : "radix_tree_root";
  const char* node_type = l.xarray ? "xa_node" : "radix_tree_node";
  CORONER_TRY(head, program.member_offset(root_type, l.xarray ? "xa_head" : "rnode"));
  auto shift = program.member_offset(node_type, "shift");
  if (!shift)
    return make_error(Errc::unsupported, "{} has no shift member: radix trees before Linux 4.7 are not supported",
                      node_type);
  CORONER_TRY(slots, program.member_offset(node_type, "slots"));
  CORONER_TRY(count, array_length(program, node_type, "slots"));
  l.head = head, l.node_shift = *shift, l.node_slots = slots, l.slot_count = count;
  return l;
}

namespace {

// What one slot of an XArray or radix tree holds.
enum class SlotKind { empty, node, entry, internal };

struct Slot {
  SlotKind kind = SlotKind::empty;
  uint64_t node = 0;  // SlotKind::node: the node's address
};

Slot classify(const XArrayLayout& layout, uint64_t value, uint64_t node_slots_begin) {
  if (value == 0) return {};
  if (layout.xarray) {
    // Internal entries end in binary 10: node pointers (above 4096),
    // siblings, retry and zero entries (small values).
    if ((value & 3) != 2) return {SlotKind::entry};
    if (value > 4096) return {SlotKind::node, value - 2};
    return {SlotKind::internal};
  }
  // 4.7..4.19: internal entries end in binary 01: node pointers, or siblings
  // that point into the parent's own slots, or the retry entry (1).
  if ((value & 3) != 1) return {SlotKind::entry};
  uint64_t target = value - 1;
  if (target == 0) return {SlotKind::internal};
  if (node_slots_begin && target >= node_slots_begin && target < node_slots_begin + 8 * layout.slot_count)
    return {SlotKind::internal};
  return {SlotKind::node, target};
}

}  // namespace

namespace {

// Depth first, slots in order, so that indexes come out sorted. Recursion
// is bounded by the shift, which drops by a chunk at every level.
struct XArrayWalk {
  const KernelMemory& memory;
  const XArrayLayout& layout;
  uint64_t root;
  unsigned chunk_shift;
  Visits visits;
  std::vector<IndexedEntry> result;

  Expected<void> node(uint64_t address, uint64_t base, std::vector<uint16_t>& path,
                      std::optional<unsigned> expected_shift) {
    CORONER_CHECK(visits.enter(address));
    CORONER_TRY(shift, memory.read_value<uint8_t>(address + layout.node_shift));
    if (shift >= 64 || shift % chunk_shift || (expected_shift && shift != *expected_shift) ||
        path.size() >= kMaxXArrayLevels)
      return make_error(Errc::corrupt, "xarray at {:#x}: node {:#x} has shift {}{}", root, address, unsigned{shift},
                        expected_shift ? fmt::format(", expected {}", *expected_shift) : std::string());
    std::vector<uint64_t> slots(layout.slot_count);
    CORONER_CHECK(memory.read(address + layout.node_slots, std::as_writable_bytes(std::span(slots))));
    for (unsigned i = 0; i < layout.slot_count; ++i) {
      Slot s = classify(layout, slots[i], address + layout.node_slots);
      uint64_t index = base + (uint64_t{i} << shift);
      path.push_back(static_cast<uint16_t>(i));
      if (s.kind == SlotKind::node) {
        if (shift == 0)
          return make_error(Errc::corrupt, "xarray at {:#x}: leaf node {:#x} slot {} holds node pointer {:#x}", root,
                            address, i, slots[i]);
        CORONER_CHECK(node(s.node, index, path, shift - chunk_shift));
      } else if (s.kind == SlotKind::entry) {
        result.push_back({index, slots[i], static_cast<unsigned>(path.size()), path});
        CORONER_CHECK(visits.count_entry(result.size()));
      }
      path.pop_back();
    }
    return {};
  }
};

}  // namespace

Expected<std::vector<IndexedEntry>> walk_xarray(const KernelMemory& memory, const XArrayLayout& layout, uint64_t root,
                                                size_t limit) {
  if (layout.slot_count < 2 || (layout.slot_count & (layout.slot_count - 1)))
    return make_error(Errc::invalid_argument, "xarray layout: {} slots per node is not a power of two",
                      layout.slot_count);
  CORONER_TRY(head, memory.read_u64(root + layout.head));
  Slot top = classify(layout, head, 0);
  XArrayWalk walk{memory, layout, root, 0, Visits(layout.xarray ? "xarray" : "radix tree", root, limit), {}};
  if (top.kind == SlotKind::entry) walk.result.push_back({0, head, 0, {}});
  if (top.kind != SlotKind::node) return std::move(walk.result);
  while ((1u << walk.chunk_shift) < layout.slot_count) ++walk.chunk_shift;
  std::vector<uint16_t> path;
  CORONER_CHECK(walk.node(top.node, 0, path, std::nullopt));
  return std::move(walk.result);
}

// --- maple trees -------------------------------------------------------------

Expected<MapleTreeLayout> maple_tree_layout(const Program& program) {
  MapleTreeLayout l;
  CORONER_TRY(root, program.member_offset("struct maple_tree", "ma_root"));
  CORONER_TRY(mr64, program.member_offset("struct maple_node", "mr64"));
  CORONER_TRY(ma64, program.member_offset("struct maple_node", "ma64"));
  CORONER_TRY(range_pivots, program.member_offset("maple_range_64", "pivot"));
  CORONER_TRY(range_slots, program.member_offset("maple_range_64", "slot"));
  CORONER_TRY(range_count, array_length(program, "maple_range_64", "slot"));
  CORONER_TRY(arange_pivots, program.member_offset("maple_arange_64", "pivot"));
  CORONER_TRY(arange_slots, program.member_offset("maple_arange_64", "slot"));
  CORONER_TRY(arange_count, array_length(program, "maple_arange_64", "slot"));
  CORONER_TRY(range_meta, program.member_offset("maple_range_64", "meta"));
  CORONER_TRY(arange_meta, program.member_offset("maple_arange_64", "meta"));
  CORONER_TRY(meta_end, program.member_offset("struct maple_metadata", "end"));
  CORONER_TRY(dense_slots, program.member_offset("struct maple_node", "slot"));
  CORONER_TRY(dense_count, array_length(program, "maple_node", "slot"));
  CORONER_TRY(dense, enumerator(program, "maple_dense"));
  CORONER_TRY(leaf_64, enumerator(program, "maple_leaf_64"));
  CORONER_TRY(range_64, enumerator(program, "maple_range_64"));
  CORONER_TRY(arange_64, enumerator(program, "maple_arange_64"));
  l.root = root;
  l.range_pivots = mr64 + range_pivots, l.range_slots = mr64 + range_slots, l.range_slot_count = range_count;
  l.arange_pivots = ma64 + arange_pivots, l.arange_slots = ma64 + arange_slots, l.arange_slot_count = arange_count;
  l.range_meta_end = mr64 + range_meta + meta_end, l.arange_meta_end = ma64 + arange_meta + meta_end;
  l.dense_slots = dense_slots, l.dense_slot_count = dense_count;
  l.type_dense = dense, l.type_leaf_64 = leaf_64, l.type_range_64 = range_64, l.type_arange_64 = arange_64;
  return l;
}

namespace {

// An encoded maple node pointer (struct maple_enode *): the node is 256-byte
// aligned and the low byte holds its type (bits 3..6) and flags
// (MAPLE_NODE_MASK, MAPLE_NODE_TYPE_SHIFT and _MASK of maple_tree.h; these
// are #defines, not in DWARF, unchanged since the tree's introduction).
constexpr uint64_t kMapleNodeMask = 0xff;
constexpr unsigned kMapleTypeShift = 3;
constexpr uint64_t kMapleTypeMask = 0x0f;

bool is_node_pointer(uint64_t entry) { return (entry & 3) == 2 && entry > 4096; }
// Internal values that are not entries (XA_ZERO_ENTRY and friends).
bool is_reserved(uint64_t entry) { return (entry & 3) == 2 && entry <= 4096; }

struct MapleWalk {
  const KernelMemory& memory;
  const MapleTreeLayout& layout;
  uint64_t root;
  Visits visits;
  std::vector<RangeEntry> result;

  Expected<void> emit(uint64_t first, uint64_t last, uint64_t value) {
    if (value == 0 || is_reserved(value)) return {};
    result.push_back({first, last, value});
    return visits.count_entry(result.size());
  }

  // The last slot in use (the kernel's ma_data_end).
  Expected<unsigned> data_end(uint64_t address, bool arange, const std::vector<uint64_t>& pivots, uint64_t max) {
    const unsigned count = static_cast<unsigned>(pivots.size()) + 1;
    if (!arange && pivots.back() == max) return count - 2;
    if (!arange && pivots.back() != 0) return count - 1;
    CORONER_TRY(end, memory.read_value<uint8_t>(address + (arange ? layout.arange_meta_end : layout.range_meta_end)));
    if (end >= count)
      return make_error(Errc::corrupt, "maple tree at {:#x}: node {:#x} ends at slot {} of {}", root, address,
                        unsigned{end}, count);
    return unsigned{end};
  }

  Expected<void> node(uint64_t enode, uint64_t min, uint64_t max, unsigned height) {
    uint64_t address = enode & ~kMapleNodeMask;
    uint64_t type = (enode >> kMapleTypeShift) & kMapleTypeMask;
    if (height > kMaxMapleHeight)
      return make_error(Errc::corrupt, "maple tree at {:#x}: deeper than {} levels at node {:#x}", root,
                        kMaxMapleHeight, address);
    CORONER_CHECK(visits.enter(address));
    if (type == layout.type_dense) {
      std::vector<uint64_t> slots(layout.dense_slot_count);
      CORONER_CHECK(memory.read(address + layout.dense_slots, std::as_writable_bytes(std::span(slots))));
      for (unsigned i = 0; i < slots.size() && min + i <= max; ++i) CORONER_CHECK(emit(min + i, min + i, slots[i]));
      return {};
    }
    bool leaf = type == layout.type_leaf_64;
    bool arange = type == layout.type_arange_64;
    if (!leaf && !arange && type != layout.type_range_64)
      return make_error(Errc::corrupt, "maple tree at {:#x}: node {:#x} has unknown type {}", root, address, type);
    unsigned count = arange ? layout.arange_slot_count : layout.range_slot_count;
    std::vector<uint64_t> pivots(count - 1), slots(count);
    CORONER_CHECK(memory.read(address + (arange ? layout.arange_pivots : layout.range_pivots),
                              std::as_writable_bytes(std::span(pivots))));
    CORONER_CHECK(memory.read(address + (arange ? layout.arange_slots : layout.range_slots),
                              std::as_writable_bytes(std::span(slots))));
    CORONER_TRY(end, data_end(address, arange, pivots, max));
    // Slot i covers [previous pivot + 1, pivot i]; the slot at the data end
    // ends at the node's max when its pivot is 0 or implied.
    uint64_t first = min;
    for (unsigned i = 0; i <= end; ++i) {
      uint64_t last = i + 1 < count && pivots[i] ? pivots[i] : max;
      if (last < first || last > max)
        return make_error(Errc::corrupt, "maple tree at {:#x}: node {:#x} pivot {} is {:#x}, outside [{:#x}, {:#x}]",
                          root, address, i, last, first, max);
      if (leaf) {
        CORONER_CHECK(emit(first, last, slots[i]));
      } else if (slots[i]) {
        // Children are node | type << 3 | MAPLE_ENODE_NULL (4); only the
        // root pointer carries the XArray node tag.
        if (slots[i] < 4096)
          return make_error(Errc::corrupt, "maple tree at {:#x}: node {:#x} slot {} holds {:#x}, not a node", root,
                            address, i, slots[i]);
        CORONER_CHECK(node(slots[i], first, last, height + 1));
      }
      if (last == max) break;
      first = last + 1;
    }
    return {};
  }
};

}  // namespace

Expected<std::vector<RangeEntry>> walk_maple_tree(const KernelMemory& memory, const MapleTreeLayout& layout,
                                                  uint64_t root, size_t limit) {
  if (layout.range_slot_count < 2 || layout.arange_slot_count < 2 || layout.dense_slot_count == 0 ||
      layout.range_slot_count > 256 || layout.arange_slot_count > 256 || layout.dense_slot_count > 256)
    return make_error(Errc::invalid_argument, "maple tree layout: implausible slot counts");
  CORONER_TRY(head, memory.read_u64(root + layout.root));
  MapleWalk walk{memory, layout, root, Visits("maple tree", root, limit), {}};
  if (head == 0) return std::move(walk.result);
  if (!is_node_pointer(head)) {  // a lone entry at index 0
    CORONER_CHECK(walk.emit(0, 0, head));
    return std::move(walk.result);
  }
  uint64_t type = (head >> kMapleTypeShift) & kMapleTypeMask;
  uint64_t max = type == layout.type_dense ? layout.dense_slot_count - 1 : ~uint64_t{0};
  CORONER_CHECK(walk.node(head, 0, max, 0));
  return std::move(walk.result);
}

}  // namespace coroner::linux_kernel
