// Types from BTF equal types from DWARF: both read out of the same Debian
// distro vmlinux (its -dbg file carries full DWARF and the kernel's .BTF).
#include "symbols/debug_info.hpp"
#include "tests/support/fixtures.hpp"
#include "tests/symbols/distro_kernel.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>

using namespace coroner;
using namespace coroner::test;
using coroner::symbols::DebugInfo;
using coroner::symbols::Member;
using coroner::symbols::Type;
using coroner::symbols::TypeKind;

namespace {

struct Kernel {
  std::unique_ptr<DebugInfo> dwarf;
  std::unique_ptr<DebugInfo> btf;
};

// Both views of the distro vmlinux, opened once for the whole binary.
Kernel& distro_kernel() {
  static Kernel kernel = [] {
    const std::string vmlinux = distro_file("vmlinux");
    Kernel k;
    auto dwarf = DebugInfo::open(vmlinux, (cache_dir() / "symbols-index" / "distro").string());
    REQUIRE(dwarf.has_value());
    REQUIRE((*dwarf)->build_index().has_value());
    k.dwarf = std::move(*dwarf);
    std::vector<std::byte> bytes = section_bytes(vmlinux, ".BTF");
    const size_t size = bytes.size();
    const auto start = std::chrono::steady_clock::now();
    auto btf = DebugInfo::open_btf(std::move(bytes), "vmlinux: .BTF");
    if (!btf) FAIL(btf.error().message());
    fmt::print(stderr, "distro vmlinux .BTF ({:.1f} MiB): open_btf {:.3f} s\n", size / 1048576.0,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    k.btf = std::move(*btf);
    return k;
  }();
  return kernel;
}

// BTF cannot tell x[0] from x[]: both read as x[].
bool is_flexible_array(const Type& type) {
  return type.kind() == TypeKind::array && type.length().value_or(0) == 0;
}

void check_member(Kernel& k, const std::string& type, const std::string& path) {
  INFO(type << " ." << path);
  auto dwarf = k.dwarf->find_member(type, path);
  REQUIRE(dwarf.has_value());
  auto btf = k.btf->find_member(type, path);
  if (!btf) FAIL(btf.error().message());
  CHECK(btf->bit_offset == dwarf->bit_offset);
  CHECK(btf->bit_size == dwarf->bit_size);
  CHECK(btf->type.qualifiers == dwarf->type.qualifiers);
  if (is_flexible_array(*dwarf->type.type)) return;
  CHECK(btf->type.type->spelling() == dwarf->type.type->spelling());
  CHECK(btf->type.type->size().value_or(~0ull) == dwarf->type.type->size().value_or(~1ull));
}

// Every named member of a struct/union (those of anonymous members too,
// found by name through them) from BTF as from DWARF. Returns how many.
size_t check_members(Kernel& k, const std::string& type_name, const Type& type, int depth = 0) {
  size_t checked = 0;
  for (const Member& member : type.members()) {
    if (!member.name.empty()) {
      check_member(k, type_name, member.name);
      ++checked;
      continue;
    }
    auto inner = member.type.get();
    REQUIRE(inner.has_value());
    auto under = symbols::underlying(*inner);
    REQUIRE(under.has_value());
    if (depth < 8) checked += check_members(k, type_name, **under, depth + 1);
  }
  return checked;
}

}  // namespace

TEST_CASE("BTF structs of the kernel model equal DWARF's member by member", "[symbols][btf][distro]") {
  Kernel& k = distro_kernel();
  CHECK(k.dwarf->has_dwarf());
  CHECK_FALSE(k.btf->has_dwarf());
  for (const char* name :
       {"task_struct", "mm_struct", "module", "uts_namespace", "new_utsname", "list_head", "hlist_node", "prb_desc",
        "prb_desc_ring", "prb_data_ring", "printk_ringbuffer", "printk_info", "page", "kmem_cache", "rq", "cfs_rq",
        "sched_entity", "thread_struct", "pt_regs", "pid", "upid", "pid_namespace", "signal_struct", "mem_section",
        "zone", "pglist_data", "vm_area_struct", "file", "dentry", "inode", "super_block", "net_device", "sk_buff",
        "cpumask", "kernel_symbol", "mod_kallsyms", "hrtimer", "timer_list", "kobject", "files_struct", "fdtable",
        "vmap_area", "vm_struct", "irq_desc", "workqueue_struct", "worker_pool", "mutex", "rw_semaphore",
        "qspinlock", "task_group", "css_set", "cgroup", "cred", "nsproxy", "fs_struct", "path", "qstr"}) {
    INFO(name);
    auto type = k.dwarf->find_type(name);
    REQUIRE(type.has_value());
    auto underlying = symbols::underlying(*type);
    REQUIRE(underlying.has_value());
    CHECK(check_members(k, name, **underlying) > 0);
    CHECK(k.btf->type_size(name).value_or(0) == k.dwarf->type_size(name).value_or(1));
  }
  // Member paths the kernel model reads.
  for (auto [type, path] : std::initializer_list<std::pair<const char*, const char*>>{
           {"task_struct", "thread.sp"}, {"task_struct", "se.on_rq"}, {"task_struct", "comm[3]"},
           {"task_struct", "pid_links[1]"}, {"task_struct", "__state"}, {"task_struct", "stack"},
           {"module", "mem"}, {"module", "core_layout"}, {"module", "core_layout.base"}, {"page", "flags"},
           {"page", "_refcount"}, {"page", "lru"}, {"page", "compound_head"}, {"uts_namespace", "name.release"}}) {
    if (!k.dwarf->find_member(type, path)) continue;  // module.mem is 6.4+, core_layout before
    check_member(k, type, path);
  }
  auto comm = k.btf->find_member("task_struct", "comm");
  REQUIRE(comm.has_value());
  CHECK(comm->type.type->spelling() == "char [16]");
  CHECK(comm->type.type->target().get()->type->encoding() == symbols::Encoding::signed_char);
  CHECK(k.btf->has_member("task_struct", "__state").value_or(false));
  CHECK_FALSE(k.btf->has_member("task_struct", "state").value_or(true));
  // A bitfield (sched_reset_on_fork and its neighbours).
  auto reset = k.btf->find_member("task_struct", "sched_reset_on_fork");
  REQUIRE(reset.has_value());
  CHECK(reset->bit_size == 1);
}

TEST_CASE("BTF type names spell and size as DWARF's", "[symbols][btf][distro]") {
  Kernel& k = distro_kernel();
  for (const char* name :
       {"struct task_struct", "task_struct", "unsigned long", "long unsigned int", "unsigned int", "int", "char",
        "unsigned char", "_Bool", "bool", "char *", "const char *", "struct list_head *", "pid_t", "u64", "u8",
        "atomic_t", "atomic_long_t", "spinlock_t", "raw_spinlock_t", "enum pid_type", "pid_type", "union bpf_attr",
        "cpumask_var_t", "pgd_t", "pte_t", "phys_addr_t", "struct list_head **", "long long", "short",
        "enum zone_stat_item", "struct mutex"}) {
    INFO(name);
    auto dwarf = k.dwarf->find_type(name);
    REQUIRE(dwarf.has_value());
    auto btf = k.btf->find_type(name);
    if (!btf) FAIL(btf.error().message());
    CHECK(btf->type->spelling() == dwarf->type->spelling());
    CHECK(btf->type->kind() == dwarf->type->kind());
    CHECK(btf->qualifiers == dwarf->qualifiers);
    CHECK(btf->type->size().value_or(0) == dwarf->type->size().value_or(1));
    CHECK(btf->type->is_signed() == dwarf->type->is_signed());
    CHECK(btf->type->encoding() == dwarf->type->encoding());
  }
  auto missing = k.btf->find_type("no_such_type_at_all");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code() == Errc::not_found);
  CHECK(missing.error().message() == "vmlinux: .BTF: no type named 'no_such_type_at_all'");
}

TEST_CASE("BTF enumerators equal DWARF's", "[symbols][btf][distro]") {
  Kernel& k = distro_kernel();
  for (const char* name : {"PIDTYPE_PID", "PIDTYPE_TGID", "PIDTYPE_MAX", "NR_FREE_PAGES", "NR_VM_ZONE_STAT_ITEMS",
                           "PG_locked", "PG_slab", "__NR_PAGEFLAGS", "HRTIMER_RESTART", "TASK_COMM_LEN"}) {
    INFO(name);
    auto dwarf = k.dwarf->find_enumerator(name);
    REQUIRE(dwarf.has_value());
    CHECK(k.btf->find_enumerator(name).value_or(-12345) == *dwarf);
  }
  // Whole enum types, signed and unsigned.
  for (const char* name : {"enum pid_type", "enum zone_stat_item", "enum node_stat_item", "enum pageflags",
                           "enum hrtimer_restart", "enum cpuhp_state", "enum perf_event_state"}) {
    INFO(name);
    auto dwarf = k.dwarf->find_type(name);
    auto btf = k.btf->find_type(name);
    REQUIRE(dwarf.has_value());
    REQUIRE(btf.has_value());
    const auto& expected = dwarf->type->enumerators();
    const auto& got = btf->type->enumerators();
    REQUIRE(got.size() == expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].name == expected[i].name);
      CHECK(got[i].value == expected[i].value);
    }
    CHECK(btf->type->is_signed() == dwarf->type->is_signed());
  }
  CHECK(k.btf->find_enumerator("NO_SUCH_ENUMERATOR").error().code() == Errc::not_found);
}

TEST_CASE("BTF per-CPU variables sit where DWARF puts them", "[symbols][btf][distro]") {
  Kernel& k = distro_kernel();
  const auto names = k.btf->names_starting_with("", {symbols::NameKind::variable}, 100000);
  REQUIRE(names.size() > 100);
  size_t checked = 0;
  for (const std::string& name : names) {
    INFO(name);
    auto btf = k.btf->find_variable(name);
    REQUIRE(btf.has_value());
    CHECK(btf->per_cpu);
    auto dwarf = k.dwarf->find_variable(name);
    if (!dwarf || !dwarf->address) continue;  // a static of a name DWARF has twice
    CHECK(btf->address == dwarf->address);
    CHECK(btf->type.type->spelling() == dwarf->type.type->spelling());
    ++checked;
  }
  CHECK(checked * 10 > names.size() * 9);
  for (const char* name : {"runqueues", "current_task", "cpu_number", "this_cpu_off"}) {
    INFO(name);
    auto btf = k.btf->find_variable(name);
    REQUIRE(btf.has_value());
    CHECK(btf->address == k.dwarf->find_variable(name)->address);
  }
  CHECK(k.btf->find_variable("runqueues")->type.type->spelling() == "struct rq");

  // Other globals: the well-known ones (btf_globals.cpp) have DWARF's type
  // and no address (kallsyms gives it); the rest are not found.
  for (const char* name : {"init_task", "init_uts_ns", "jiffies", "nr_cpu_ids", "high_memory", "node_data",
                           "__per_cpu_offset", "modules", "prb", "tainted_mask"}) {
    INFO(name);
    auto btf = k.btf->find_variable(name);
    REQUIRE(btf.has_value());
    CHECK_FALSE(btf->address.has_value());
    CHECK_FALSE(btf->per_cpu);
    auto dwarf = k.dwarf->find_variable(name);
    REQUIRE(dwarf.has_value());
    std::string spelled = dwarf->type.type->spelling();
    // DWARF knows the arrays' lengths ("[1024]"); BTF's table declares them "[]".
    if (const size_t open = spelled.find('['); open != std::string::npos) spelled = spelled.substr(0, open) + "[]";
    CHECK(btf->type.type->spelling() == spelled);
  }
  auto unknown = k.btf->find_variable("max_threads");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().code() == Errc::not_found);
  CHECK(unknown.error().message() == "vmlinux: .BTF: no type for 'max_threads' (BTF describes only per-CPU "
                                     "variables and a few well-known globals)");
}

TEST_CASE("BTF functions: the type but no address", "[symbols][btf][distro]") {
  Kernel& k = distro_kernel();
  for (const char* name : {"panic", "schedule", "do_exit", "__schedule", "printk", "kmem_cache_alloc"}) {
    INFO(name);
    auto dwarf = k.dwarf->find_function(name);
    auto btf = k.btf->find_function(name);
    if (!dwarf) continue;
    if (!btf) FAIL(btf.error().message());
    CHECK_FALSE(btf->address.has_value());
    CHECK(btf->type.type->kind() == TypeKind::function);
    CHECK(btf->type.type->spelling() == dwarf->type.type->spelling());
    CHECK(btf->type.type->is_variadic() == dwarf->type.type->is_variadic());
  }
  auto panic = k.btf->find_function("panic");
  REQUIRE(panic.has_value());
  CHECK(panic->type.type->is_variadic());
  REQUIRE(panic->type.type->parameters().size() == 1);
  CHECK(panic->type.type->parameters()[0].name == "fmt");
  CHECK(k.btf->names_starting_with("schedul", {symbols::NameKind::function}, 5).size() == 5);
  CHECK(k.btf->names_starting_with("task_stru", {symbols::NameKind::structure}, 10) ==
        std::vector<std::string>{"task_struct"});
}

TEST_CASE("BTF split: a module's types on top of the kernel's", "[symbols][btf][distro]") {
  Kernel& k = distro_kernel();
  const std::string module = distro_file("root/lib/modules/" + btf_test_kernel().release + "/kernel/drivers/firmware/qemu_fw_cfg.ko");
  auto split = DebugInfo::open_split_btf(*k.btf, section_bytes(module, ".BTF"), "qemu_fw_cfg: .BTF");
  if (!split) FAIL(split.error().message());
  DebugInfo& info = **split;
  CHECK_FALSE(info.has_dwarf());
  // The module's own struct, whose members refer to the kernel's types.
  auto entry = info.find_type("struct fw_cfg_sysfs_entry");
  if (!entry) FAIL(entry.error().message());
  CHECK(entry->type->is_complete());
  auto kobj = info.find_member("fw_cfg_sysfs_entry", "kobj");
  REQUIRE(kobj.has_value());
  CHECK(kobj->type.type->spelling() == "struct kobject");
  CHECK(kobj->type.type->size().value_or(0) == k.dwarf->type_size("struct kobject").value_or(1));
  // Kernel types by name through the module's BTF.
  CHECK(info.type_size("struct task_struct").value_or(0) == k.dwarf->type_size("struct task_struct").value_or(1));

  auto on_dwarf = DebugInfo::open_split_btf(*k.dwarf, section_bytes(module, ".BTF"), "qemu_fw_cfg: .BTF");
  REQUIRE_FALSE(on_dwarf.has_value());
  CHECK(on_dwarf.error().code() == Errc::invalid_argument);
}

TEST_CASE("every named BTF type sizes and spells as DWARF's", "[symbols][btf][distro]") {
  Kernel& k = distro_kernel();
  using symbols::NameKind;
  size_t total = 0, differ = 0;
  for (auto [kind, prefix] : std::initializer_list<std::pair<NameKind, const char*>>{
           {NameKind::structure, "struct "}, {NameKind::union_type, "union "}, {NameKind::enumeration, "enum "},
           {NameKind::typedef_type, ""}, {NameKind::base, ""}}) {
    for (const std::string& name : k.btf->names_starting_with("", {kind}, 1000000)) {
      const std::string spelled = prefix + name;
      auto dwarf = k.dwarf->find_type(spelled);
      if (!dwarf) continue;  // a few BTF-only names (DWARF: none of that kind)
      ++total;
      auto btf = k.btf->find_type(spelled);
      REQUIRE(btf.has_value());
      auto dwarf_size = dwarf->type->size();
      auto btf_size = btf->type->size();
      if (dwarf_size.has_value() == btf_size.has_value() && (!dwarf_size || *dwarf_size == *btf_size) &&
          dwarf->type->spelling() == btf->type->spelling() &&
          dwarf->type->members().size() == btf->type->members().size() &&
          dwarf->type->enumerators().size() == btf->type->enumerators().size())
        continue;
      // The same name defined twice (struct remap_data in two files): each
      // picks its own first.
      fmt::print(stderr, "BTF and DWARF differ on {}: {} and {} bytes\n", spelled, btf_size.value_or(0),
                 dwarf_size.value_or(0));
      ++differ;
    }
  }
  CHECK(total > 10000);
  CHECK(differ * 1000 < total);
}
