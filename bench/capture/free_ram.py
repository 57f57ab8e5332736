"""Free RAM for make_large_vmcore.py --ram-gib: the physical range
[base, end) as RAM of the dumped x86_64 kernel, every page of it free.

The range's data in the vmcore is a hole (the file stays sparse) except a
few MiB at its start that describe it the way the kernel itself would:

- struct pages: vmemmap maps the struct pages of every new memory section
  (2 MiB of them per 128 MiB section) to one shared 2 MiB block whose
  pages are free buddy blocks of the largest order, so a dump filter at
  -d 16 excludes the whole range from struct pages alone, without reading
  it. The first new section gets its own block, in which the blocks that
  hold this description are in use (kept, so the description survives in
  a filtered dump);
- mem_section: the new sections' entries (a copy of a present section's,
  whose section_mem_map is vmemmap's base), in new root pages where the
  kernel had none;
- page tables: the direct map of the range (1 GiB pages) and vmemmap's 2 MiB
  mappings, added to init_top_pgt's tables, with new tables where the
  kernel had none.

- the node: contig_page_data's node_present_pages and node_spanned_pages
  (node_present_pages assumed just before node_spanned_pages, which
  VMCOREINFO places) count the new pages, so `sys` shows the new size.

The zones and totalram_pages still count the original size. Needs x86_64 with 4-level paging,
SPARSEMEM_VMEMMAP and 64-byte struct pages (a section's struct pages fill
one 2 MiB mapping).
"""
import struct
import sys

GIB = 1 << 30
MIB2 = 2 << 20
START_KERNEL_MAP = 0xFFFFFFFF80000000
DIRECT_MAP_FLOOR = 0xFFFF800000000000
PTE_TABLE = 0x63  # present, writable, accessed, dirty: points to a table
PTE_LARGE = (1 << 63) | 0x1E3  # the same + PSE, global, NX: a 2 MiB / 1 GiB kernel mapping
ADDR_MASK = 0x000FFFFFFFFFF000
PAGE = 4096


def number(info, key):
    if key not in info:
        sys.exit(f"VMCOREINFO has no {key}: cannot add free RAM")
    value = info[key]
    return int(value, 16) if key.startswith("SYMBOL(") else int(value)


class PhysMemory:
    """Page-granular physical memory: the input's pages read on demand,
    pages of the new range zero; keeps every page it touched."""

    def __init__(self, src, loads, base):
        self.src, self.loads, self.base, self.pages = src, loads, base, {}

    def page(self, paddr):
        at = paddr & ~(PAGE - 1)
        if at not in self.pages:
            if at >= self.base:
                self.pages[at] = bytearray(PAGE)
            else:
                for p in self.loads:
                    if p[4] <= at and at + PAGE <= p[4] + p[5]:
                        self.src.seek(p[2] + at - p[4])
                        self.pages[at] = bytearray(self.src.read(PAGE))
                        break
                else:
                    sys.exit(f"physical page {at:#x} is in no PT_LOAD")
        return self.pages[at]

    def read_u64(self, paddr):
        return struct.unpack_from("<Q", self.page(paddr), paddr % PAGE)[0]

    def write(self, paddr, data):
        if paddr % PAGE + len(data) > PAGE:
            sys.exit(f"write at {paddr:#x} crosses a page")
        self.page(paddr)[paddr % PAGE : paddr % PAGE + len(data)] = data

    def write_u64(self, paddr, value):
        self.write(paddr, struct.pack("<Q", value))


def virt_to_phys(loads, vaddr):
    """Through the PT_LOADs' virtual addresses (the kernel image, the
    direct map of the original RAM)."""
    for p in loads:
        if p[3] and p[3] <= vaddr < p[3] + p[5]:
            return p[4] + vaddr - p[3]
    sys.exit(f"virtual address {vaddr:#x} is in no PT_LOAD")


def free_blocks(info, kept_bytes):
    """One section's struct pages (2 MiB): free buddy blocks of the largest
    order, the first ones, covering kept_bytes, in use."""
    size = number(info, "SIZE(page)")
    mapcount = number(info, "OFFSET(page._mapcount)")
    private = number(info, "OFFSET(page.private)")
    buddy = number(info, "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)") & 0xFFFFFFFF
    order = number(info, "LENGTH(zone.free_area)") - 1
    pages = MIB2 // size
    block = 1 << order
    kept = -(-kept_bytes // (block * PAGE))
    array = bytearray(MIB2)
    for i in range(pages):
        struct.pack_into("<I", array, i * size + mapcount, 0xFFFFFFFF)  # no mappings, no page type
    for head in range(kept * block, pages, block):
        struct.pack_into("<I", array, head * size + mapcount, buddy)
        struct.pack_into("<Q", array, head * size + private, order)
    return bytes(array)


def add_free_ram(src, loads, info, base, end):
    """The direct-map address of base, and the (paddr, bytes) writes that
    make [base, end) free RAM; base and end are multiples of 1 GiB above
    every PT_LOAD."""
    if info.get("NUMBER(pgtable_l5_enabled)", "0") != "0" or "SYMBOL(init_top_pgt)" not in info:
        sys.exit("--ram-gib needs an x86_64 vmcore with 4-level paging (SYMBOL(init_top_pgt))")
    section_bits = number(info, "NUMBER(SECTION_SIZE_BITS)")
    struct_page = number(info, "SIZE(page)")
    if number(info, "PAGESIZE") != PAGE or (1 << section_bits) // PAGE * struct_page != MIB2:
        sys.exit("--ram-gib needs 4 KiB pages and a section's struct pages filling 2 MiB")
    if base % GIB or end % GIB or base >= end:
        sys.exit(f"free RAM [{base:#x}, {end:#x}) is not whole GiB")

    offsets = {p[3] - p[4] for p in loads if DIRECT_MAP_FLOOR <= p[3] < START_KERNEL_MAP}
    if len(offsets) != 1:
        sys.exit("the PT_LOADs do not show one direct-map offset")
    page_offset = offsets.pop()
    if page_offset % GIB:
        sys.exit(f"direct map at {page_offset:#x} is not 1 GiB aligned")
    pgd = number(info, "SYMBOL(init_top_pgt)") - START_KERNEL_MAP + number(info, "NUMBER(phys_base)")

    memory = PhysMemory(src, loads, base)
    blobs = []
    # The description's layout: the shared free block, the first section's
    # block, then 4 KiB pages (tables, mem_section roots).
    shared, first = base, base + MIB2
    cursor = [base + 2 * MIB2]

    def new_page():
        cursor[0] += PAGE
        return cursor[0] - PAGE

    def table(entry):
        value = memory.read_u64(entry)
        if value == 0:
            value = new_page() | PTE_TABLE
            memory.write_u64(entry, value)
        elif value & 0x80:
            sys.exit(f"page-table entry at {entry:#x} maps a large page where a table is needed")
        return value & ADDR_MASK

    def leaf(entry, target):
        if memory.read_u64(entry):
            sys.exit(f"page-table entry at {entry:#x} is in use: the kernel maps memory there")
        memory.write_u64(entry, target | PTE_LARGE)

    def pud_entry(vaddr):
        return table(pgd + 8 * (vaddr >> 39 & 511)) + 8 * (vaddr >> 30 & 511)

    def pmd_entry(vaddr):
        return table(pud_entry(vaddr)) + 8 * (vaddr >> 21 & 511)

    for gib in range(base // GIB, end // GIB):
        leaf(pud_entry(page_offset + gib * GIB), gib * GIB)

    root_array = number(info, "SYMBOL(mem_section)")
    entry_size = number(info, "SIZE(mem_section)")
    per_root = PAGE // entry_size
    map_offset = number(info, "OFFSET(mem_section.section_mem_map)")
    template = None
    for nr in range(base >> section_bits):
        root = memory.read_u64(virt_to_phys(loads, root_array + 8 * (nr // per_root)))
        if root:
            at = virt_to_phys(loads, root + nr % per_root * entry_size)
            entry = bytes(memory.page(at)[at % PAGE : at % PAGE + entry_size])
            if struct.unpack_from("<Q", entry, map_offset)[0]:
                template = entry
                break
    if template is None:
        sys.exit("mem_section describes no memory below the free RAM")
    vmemmap = struct.unpack_from("<Q", template, map_offset)[0] & ~(PAGE - 1)

    for nr in range(base >> section_bits, end >> section_bits):
        root_at = virt_to_phys(loads, root_array + 8 * (nr // per_root))
        root = memory.read_u64(root_at)
        if root == 0:
            root = page_offset + new_page()
            memory.write_u64(root_at, root)
        vaddr = root + nr % per_root * entry_size
        at = vaddr - page_offset if vaddr - page_offset >= base else virt_to_phys(loads, vaddr)
        if any(memory.page(at)[at % PAGE : at % PAGE + entry_size]):
            sys.exit(f"mem_section slot {nr} is in use: the kernel has memory there")
        memory.write(at, template)
        leaf(pmd_entry(vmemmap + (nr << section_bits) // PAGE * struct_page), first if nr == base >> section_bits else shared)

    if "SYMBOL(contig_page_data)" in info:
        spanned = virt_to_phys(loads, number(info, "SYMBOL(contig_page_data)") +
                               number(info, "OFFSET(pglist_data.node_spanned_pages)"))
        start = memory.read_u64(spanned - 16)  # node_start_pfn
        memory.write_u64(spanned - 8, memory.read_u64(spanned - 8) + (end - base) // PAGE)
        memory.write_u64(spanned, end // PAGE - start)

    blobs.append((shared, free_blocks(info, 0)))
    blobs.append((first, free_blocks(info, cursor[0] - base)))
    print(f"free RAM [{base:#x}, {end:#x}): {(cursor[0] - base) / 2**20:.1f} MiB of struct pages, tables and "
          f"mem_section roots at its start", file=sys.stderr)
    return page_offset + base, blobs + [(at, bytes(page)) for at, page in sorted(memory.pages.items())]
