// The tree walkers: synthetic trees laid out in fake memory (shapes, the
// encodings, corrupt and looping trees), and the real kernels' trees of the
// fixtures checked against facts.json and against the kernel's own links.
#include "analyzer/os/linux/kernel_trees.hpp"
#include "analyzer/os/linux/tasks.hpp"
#include "tests/analyzer/os/linux/fake_kernel.hpp"
#include "tests/support/program_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

namespace coroner::test {

using namespace linux_kernel;

namespace {

// rb_node: parent_color at 0, right at 8, left at 16; rb_root.rb_node at 0.
const RbTreeLayout kRb{0, 0, 8, 16};

void put_rb(FakeKernel& k, uint64_t node, uint64_t parent, uint64_t left, uint64_t right) {
  k.phys.put<uint64_t>(node, parent), k.phys.put<uint64_t>(node + 8, right), k.phys.put<uint64_t>(node + 16, left);
}

std::vector<uint64_t> addresses(const std::vector<RbNode>& nodes) {
  std::vector<uint64_t> out;
  for (const auto& n : nodes) out.push_back(n.address);
  return out;
}


}  // namespace

TEST_CASE("walk_rbtree: top-down and linear order, positions, corrupt trees", "[kernel_trees]") {
  FakeKernel k;
  //        0x2000
  //       /      \
  //   0x1000    0x3000
  //                \
  //               0x4000
  k.phys.put<uint64_t>(0x100, 0x2000);
  put_rb(k, 0x2000, 0, 0x1000, 0x3000);
  put_rb(k, 0x1000, 0x2000 | 1, 0, 0);
  put_rb(k, 0x3000, 0x2000 | 1, 0, 0x4000);
  put_rb(k, 0x4000, 0x3000, 0, 0);

  auto top = walk_rbtree(k.memory, kRb, 0x100, RbOrder::top_down);
  REQUIRE(top);
  CHECK(addresses(*top) == std::vector<uint64_t>{0x2000, 0x1000, 0x3000, 0x4000});
  CHECK((*top)[0].position() == "root");
  CHECK((*top)[1].position() == "root/l");
  CHECK((*top)[3].position() == "root/r/r");
  auto linear = walk_rbtree(k.memory, kRb, 0x100, RbOrder::linear);
  REQUIRE(linear);
  CHECK(addresses(*linear) == std::vector<uint64_t>{0x1000, 0x2000, 0x3000, 0x4000});
  auto from_node = walk_rbtree(k.memory, kRb, 0x3000, RbOrder::linear, true);
  REQUIRE(from_node);
  CHECK(addresses(*from_node) == std::vector<uint64_t>{0x3000, 0x4000});

  SECTION("an empty tree has no nodes") {
    k.phys.put<uint64_t>(0x100, 0);
    auto empty = walk_rbtree(k.memory, kRb, 0x100, RbOrder::top_down);
    REQUIRE(empty);
    CHECK(empty->empty());
  }
  SECTION("a child that names another parent is corrupt") {
    put_rb(k, 0x4000, 0x1000, 0, 0);
    auto bad = walk_rbtree(k.memory, kRb, 0x100, RbOrder::top_down);
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message(), Catch::Contains("0x4000") && Catch::Contains("parent"));
  }
  SECTION("a loop is found, not followed forever") {
    put_rb(k, 0x4000, 0x3000, 0x2000, 0);
    k.phys.put<uint64_t>(0x2000, 0x4000);  // so that the parent check passes
    auto bad = walk_rbtree(k.memory, kRb, 0x100, RbOrder::linear);
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message(), Catch::Contains("twice") && Catch::Contains("0x2000"));
  }
  SECTION("an unreadable node names its address") {
    k.phys.remove_page(0x4000);
    auto bad = walk_rbtree(k.memory, kRb, 0x100, RbOrder::top_down);
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message(), Catch::Contains("0x4000"));
  }
  SECTION("the entry limit bounds the walk") {
    auto bad = walk_rbtree(k.memory, kRb, 0x100, RbOrder::top_down, false, 3);
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message(), Catch::Contains("more than 3"));
  }
}

TEST_CASE("walk_xarray: XArray and 4.x radix tree encodings", "[kernel_trees]") {
  FakeKernel k;
  // 4 slots per node (chunk shift 2): shift at 0, slots at 0x10.
  XArrayLayout layout{true, 8, 0, 0x10, 4};
  SECTION("XArray: two levels, a value entry, a sibling and a retry entry") {
    k.phys.put<uint64_t>(0x108, 0x1000 | 2);  // root node
    k.phys.put<uint8_t>(0x1000, 2);
    k.phys.put<uint64_t>(0x1010, 0x2000 | 2);  // indexes 0..3
    k.phys.put<uint64_t>(0x1018, 0xaaa0);      // multi-index entry at 4..7
    k.phys.put<uint64_t>(0x1028, 0x3000 | 2);  // indexes 12..15
    k.phys.put<uint8_t>(0x2000, 0);
    k.phys.put<uint64_t>(0x2010, 0xbbb0);        // 0
    k.phys.put<uint64_t>(0x2018, (0 << 2) | 2);  // sibling of slot 0
    k.phys.put<uint64_t>(0x2020, (7 << 2) | 1);  // value entry 7 at index 2
    k.phys.put<uint8_t>(0x3000, 0);
    k.phys.put<uint64_t>(0x3028, 0xccc0);             // 15
    k.phys.put<uint64_t>(0x3020, (256 << 2) | 2);     // retry entry: not an entry
    auto entries = walk_xarray(k.memory, layout, 0x100);
    REQUIRE(entries);
    REQUIRE(entries->size() == 4);
    CHECK((*entries)[0].index == 0);
    CHECK((*entries)[0].value == 0xbbb0);
    CHECK((*entries)[0].slots == std::vector<uint16_t>{0, 0});
    CHECK((*entries)[1].index == 2);
    CHECK((*entries)[1].value == ((7 << 2) | 1));
    CHECK((*entries)[2].index == 4);
    CHECK((*entries)[2].value == 0xaaa0);
    CHECK((*entries)[3].index == 15);
    CHECK((*entries)[3].slots == std::vector<uint16_t>{3, 3});

    SECTION("a child with the wrong shift is corrupt") {
      k.phys.put<uint8_t>(0x3000, 2);
      auto bad = walk_xarray(k.memory, layout, 0x100);
      REQUIRE_FALSE(bad);
      CHECK_THAT(bad.error().message(), Catch::Contains("0x3000") && Catch::Contains("shift"));
    }
    SECTION("a node pointing back at an ancestor is a loop") {
      k.phys.put<uint8_t>(0x2000, 2);
      k.phys.put<uint64_t>(0x1028, 0x1000 | 2);
      auto bad = walk_xarray(k.memory, layout, 0x100);
      REQUIRE_FALSE(bad);
    }
  }
  SECTION("XArray: a lone entry in the head is index 0; NULL is empty") {
    k.phys.put<uint64_t>(0x108, 0xdead0);
    auto one = walk_xarray(k.memory, layout, 0x100);
    REQUIRE(one);
    REQUIRE(one->size() == 1);
    CHECK(((*one)[0].index == 0 && (*one)[0].value == 0xdead0 && (*one)[0].height == 0));
    k.phys.put<uint64_t>(0x108, 0);
    auto none = walk_xarray(k.memory, layout, 0x100);
    REQUIRE(none);
    CHECK(none->empty());
  }
  SECTION("radix tree of 4.7..4.19: nodes tagged with bit 0, siblings point into the node") {
    XArrayLayout old = layout;
    old.xarray = false;
    k.phys.put<uint64_t>(0x108, 0x1000 | 1);
    k.phys.put<uint8_t>(0x1000, 0);
    k.phys.put<uint64_t>(0x1010, 0x5550);
    k.phys.put<uint64_t>(0x1018, (0x1010) | 1);  // sibling of slot 0
    k.phys.put<uint64_t>(0x1020, 0x6662);        // exceptional entry
    auto entries = walk_xarray(k.memory, old, 0x100);
    REQUIRE(entries);
    REQUIRE(entries->size() == 2);
    CHECK(((*entries)[0].index == 0 && (*entries)[0].value == 0x5550));
    CHECK(((*entries)[1].index == 2 && (*entries)[1].value == 0x6662));
  }
}

TEST_CASE("walk_maple_tree: ranges of leaf and internal nodes, corrupt pivots", "[kernel_trees]") {
  FakeKernel k;
  // A small layout: range nodes have 4 slots (3 pivots at 8, slots at 0x20),
  // arange nodes the same, dense nodes 4 slots at 8.
  MapleTreeLayout layout;
  layout.root = 8;
  layout.range_pivots = 8, layout.range_slots = 0x20, layout.range_slot_count = 4;
  layout.arange_pivots = 8, layout.arange_slots = 0x20, layout.arange_slot_count = 4;
  layout.dense_slots = 8, layout.dense_slot_count = 4;
  layout.range_meta_end = 0x38, layout.arange_meta_end = 0x40;  // in the last slot, as maple_range_64's pad
  // Children carry MAPLE_ENODE_NULL (4), the root pointer the XArray node tag (2).
  auto enode = [](uint64_t node, uint64_t type) { return node | (type << 3) | 4; };
  auto root_enode = [](uint64_t node, uint64_t type) { return node | (type << 3) | 2; };

  // Root (range_64) over two leaves: [0, 0x3fffff] and [0x400000, max].
  k.phys.put<uint64_t>(0x108, root_enode(0x1000, 2));
  k.phys.put<uint64_t>(0x1008, 0x3fffff);
  k.phys.put<uint64_t>(0x1010, ~uint64_t{0});
  k.phys.put<uint8_t>(0x1038, 1);  // data end: slot 1
  k.phys.put<uint64_t>(0x1020, enode(0x1100, 1));
  k.phys.put<uint64_t>(0x1028, enode(0x1200, 1));
  // Leaf 1: NULL up to 0x3fffff (no entries; a lone gap); a stale pivot
  // after its data end.
  k.phys.put<uint64_t>(0x1108, 0x3fffff);
  k.phys.put<uint64_t>(0x1110, 0x123);
  // Leaf 2: [0x400000, 0x4fffff] -> A, [0x500000, 0x5fffff] -> NULL, [0x600000, max] -> B.
  k.phys.put<uint64_t>(0x1208, 0x4fffff);
  k.phys.put<uint64_t>(0x1210, 0x5fffff);
  k.phys.put<uint64_t>(0x1218, ~uint64_t{0});
  k.phys.put<uint64_t>(0x1220, 0xa000);
  k.phys.put<uint64_t>(0x1230, 0xb000);
  auto entries = walk_maple_tree(k.memory, layout, 0x100);
  REQUIRE(entries);
  REQUIRE(entries->size() == 2);
  CHECK(((*entries)[0].first == 0x400000 && (*entries)[0].last == 0x4fffff && (*entries)[0].value == 0xa000));
  CHECK(((*entries)[1].first == 0x600000 && (*entries)[1].last == ~uint64_t{0} && (*entries)[1].value == 0xb000));

  SECTION("a pivot beyond its parent's range is corrupt") {
    k.phys.put<uint64_t>(0x1108, 0x500000);
    auto bad = walk_maple_tree(k.memory, layout, 0x100);
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message(), Catch::Contains("0x1100") && Catch::Contains("pivot"));
  }
  SECTION("an unknown node type is corrupt") {
    k.phys.put<uint64_t>(0x1028, enode(0x1200, 9));
    auto bad = walk_maple_tree(k.memory, layout, 0x100);
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message(), Catch::Contains("unknown type"));
  }
  SECTION("a node reached twice is a loop") {
    k.phys.put<uint64_t>(0x1028, enode(0x1000, 2));
    auto bad = walk_maple_tree(k.memory, layout, 0x100);
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message(), Catch::Contains("twice"));
  }
  SECTION("a lone root entry covers index 0") {
    k.phys.put<uint64_t>(0x108, 0x7770);
    auto one = walk_maple_tree(k.memory, layout, 0x100);
    REQUIRE(one);
    REQUIRE(one->size() == 1);
    CHECK(((*one)[0].first == 0 && (*one)[0].last == 0 && (*one)[0].value == 0x7770));
  }
}

TEST_CASE("kernel trees of the fixtures: vmap areas, PID IDR, VMAs", "[kernel_trees][facts]") {
  for (const DumpCase& dump : all_dumps()) {
    const auto& facts = dump.facts();
    if (!facts.contains("tasks") || !facts.contains("modules")) continue;
    SECTION(dump.id) {
      auto program = open_program(dump);
      const Program& p = *program;
      const KernelMemory& memory = p.memory();

      // vmap_area_root: in order, areas ascend; the module's area is there.
      auto rb = rbtree_layout(p);
      REQUIRE(rb);
      auto root = p.symbol_address("vmap_area_root");
      REQUIRE(root);
      auto node_offset = p.member_offset("vmap_area", "rb_node");
      auto start_offset = p.member_offset("vmap_area", "va_start");
      auto end_offset = p.member_offset("vmap_area", "va_end");
      REQUIRE((node_offset && start_offset && end_offset));
      auto nodes = walk_rbtree(memory, *rb, *root, RbOrder::linear);
      REQUIRE(nodes);
      REQUIRE(nodes->size() > 10);
      uint64_t previous_end = 0;
      bool module_found = false;
      const uint64_t module_base = hex_value(facts["modules"][0]["base"]);
      for (const auto& n : *nodes) {
        auto start = memory.read_u64(n.address - *node_offset + *start_offset);
        auto end = memory.read_u64(n.address - *node_offset + *end_offset);
        REQUIRE((start && end));
        CHECK(*start >= previous_end);
        CHECK(*end > *start);
        previous_end = *end;
        module_found |= module_base >= *start && module_base < *end;
      }
      CHECK(module_found);
      auto top = walk_rbtree(memory, *rb, *root, RbOrder::top_down);
      REQUIRE(top);
      CHECK(top->size() == nodes->size());
      CHECK(top->front().depth == 0);

      // init_pid_ns.idr: one struct pid per task, at the index of its number.
      auto xa = xarray_layout(p);
      REQUIRE(xa);
      CHECK(xa->xarray);
      auto ns = p.symbol_address("init_pid_ns");
      auto idr = p.member_offset("pid_namespace", "idr");
      auto idr_rt = p.member_offset("idr", "idr_rt");
      auto numbers = p.member_offset("pid", "numbers");
      auto nr = p.member_offset("upid", "nr");
      REQUIRE((ns && idr && idr_rt && numbers && nr));
      auto pids = walk_xarray(memory, *xa, *ns + *idr + *idr_rt);
      REQUIRE(pids);
      std::set<uint64_t> indexes, expected;
      for (const auto& e : *pids) {
        indexes.insert(e.index);
        auto number = memory.read_value<int32_t>(e.value + *numbers + *nr);
        REQUIRE(number);
        CHECK(static_cast<uint64_t>(*number) == e.index);
      }
      for (const auto& t : facts["tasks"]) expected.insert(t["pid"].get<uint64_t>());
      CHECK(indexes == expected);

      // mm->mm_mt: the VMAs of each user process, their ranges from the tree
      // equal to vm_start/vm_end; 0x400000 (busybox's ELF header) in one.
      auto maple = maple_tree_layout(p);
      REQUIRE(maple);
      auto mm_mt = p.member_offset("mm_struct", "mm_mt");
      auto vm_start = p.member_offset("vm_area_struct", "vm_start");
      auto vm_end = p.member_offset("vm_area_struct", "vm_end");
      REQUIRE((mm_mt && vm_start && vm_end));
      // Every user process is busybox (static, its ELF header at 0x400000).
      size_t processes = 0;
      for (const auto& t : facts["tasks"]) {
        if (t["pid"] != t["tgid"]) continue;
        auto task = find_task(p, t["pid"].get<int32_t>());
        REQUIRE(task);
        if (task->mm == 0) continue;
        INFO("PID " << task->pid << " mm " << std::hex << task->mm);
        auto vmas = walk_maple_tree(memory, *maple, task->mm + *mm_mt);
        if (!vmas) FAIL(vmas.error().message());
        REQUIRE(vmas->size() >= 3);
        bool has_elf_header = false;
        for (const auto& v : *vmas) {
          auto start = memory.read_u64(v.value + *vm_start);
          auto end = memory.read_u64(v.value + *vm_end);
          REQUIRE((start && end));
          CHECK(*start == v.first);
          CHECK(*end == v.last + 1);
          has_elf_header |= v.first <= 0x400000 && 0x400000 <= v.last;
        }
        CHECK(has_elf_header);
        ++processes;
      }
      CHECK(processes > 0);
    }
  }
}

}  // namespace coroner::test
