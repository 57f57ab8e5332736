#!/usr/bin/env python3
"""Builds a large ELF vmcore from a small one, for the capture benchmark.

    make_large_vmcore.py INPUT OUTPUT COPIES [--ram-gib N]

OUTPUT holds INPUT's notes and PT_LOADs, then COPIES - 1 more copies of its
RAM: every PT_LOAD that another one does not already contain (x86_64's
kernel-text alias is dropped from the copies), shifted up by a stride of
whole GiB above the input's highest physical address, virtual addresses
shifted alike (the direct map stays consistent). All-zero stretches are left
as holes (the file is sparse, like the decompressed fixtures), so the disk
holds about COPIES times the input's real data.

So that dump filters see the copies as RAM of the same kernel, the script
gives their memory sections the original sections' struct pages: it fills
the empty mem_section slots of each copy (SPARSEMEM_EXTREME, from the
VMCOREINFO note) with the entry of the section it copies, section_mem_map
biased so that a copy's pfn lands on its original's struct page. makedumpfile
(which caps the dump at the last section with a mem_map) and coroner-capture
then dump all copies, and -d 31 excludes in each copy what it excludes in
the original. Needs the struct mem_section pages reachable through the
PT_LOADs' virtual addresses (true of x86_64 /proc/vmcore).

--ram-gib N (with COPIES 1) instead adds free RAM above the input's, up to
N GiB of physical address space, in one PT_LOAD that is a hole but for a few
MiB describing it (struct pages of free buddy blocks, mem_section entries,
page tables; see free_ram.py): a terabyte machine's dump on a few hundred MB
of disk, whose free memory a dump filter excludes from struct pages alone.
"""
import argparse
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from free_ram import add_free_ram  # noqa: E402

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
PT_LOAD, PT_NOTE = 1, 4
GIB = 1 << 30
CHUNK = 1 << 20


def vmcoreinfo(src, notes):
    """KEY=VALUE pairs of the VMCOREINFO note."""
    info = {}
    for p in notes:
        src.seek(p[2])
        text = src.read(p[5])
        at = text.find(b"VMCOREINFO\0")
        if at >= 0:
            for key, value in re.findall(rb"^([A-Z_]+(?:\([^)\n]*\))?)=(.*)$", text[at:], re.M):
                info[key.decode()] = value.decode()
    return info


def section_patches(src, loads, notes, copies, stride):
    """(paddr, bytes) writes that give each copy's sections the struct pages
    of the sections they copy."""
    info = vmcoreinfo(src, notes)
    try:
        root_array = int(info["SYMBOL(mem_section)"], 16)
        entry_size = int(info["SIZE(mem_section)"])
        map_offset = int(info["OFFSET(mem_section.section_mem_map)"])
        roots = int(info["LENGTH(mem_section)"])
        page_size = int(info["PAGESIZE"])
        struct_page = int(info["SIZE(page)"])
        section_bits = int(info["NUMBER(SECTION_SIZE_BITS)"])
    except KeyError as e:
        sys.exit(f"VMCOREINFO has no {e.args[0]}: cannot give the copies struct pages")

    def read_virt(vaddr, size):
        for p in loads:
            if p[3] and p[3] <= vaddr and vaddr + size <= p[3] + p[5]:
                src.seek(p[2] + vaddr - p[3])
                return src.read(size), p[4] + vaddr - p[3]
        sys.exit(f"virtual address {vaddr:#x} is in no PT_LOAD: cannot patch mem_section")

    per_root = page_size // entry_size
    section_pfns = 1 << (section_bits - (page_size.bit_length() - 1))
    if stride % (1 << section_bits):
        sys.exit(f"stride {stride:#x} is not a multiple of the section size")
    stride_sections = stride >> section_bits
    root_cache = {}

    def slot(nr):
        root = nr // per_root
        if root >= roots:
            sys.exit(f"section {nr} is beyond mem_section's {roots} roots")
        if root not in root_cache:
            raw, _ = read_virt(root_array + 8 * root, 8)
            (root_cache[root],) = struct.unpack("<Q", raw)
        if root_cache[root] == 0:
            sys.exit(f"mem_section root {root} is empty: use fewer copies")
        return read_virt(root_cache[root] + (nr % per_root) * entry_size, entry_size)

    originals = []
    for nr in range(stride_sections):
        entry, _ = slot(nr)
        (mem_map,) = struct.unpack_from("<Q", entry, map_offset)
        if mem_map:
            originals.append((nr, entry, mem_map))
    if not originals:
        sys.exit("mem_section describes no memory below the stride")
    patches = []
    for k in range(1, copies):
        bias = k * stride_sections * section_pfns * struct_page
        for nr, entry, mem_map in originals:
            target = nr + k * stride_sections
            current, paddr = slot(target)
            if any(current):
                sys.exit(f"mem_section slot {target} is in use: the kernel has memory there")
            patched = bytearray(entry)
            struct.pack_into("<Q", patched, map_offset, (mem_map - bias) % (1 << 64))
            patches.append((paddr, bytes(patched)))
    return patches


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("copies", type=int)
    parser.add_argument("--ram-gib", type=int, default=0, help="add free RAM up to this many GiB (COPIES 1)")
    args = parser.parse_args()
    src_path, dst_path, copies = args.input, args.output, args.copies
    if copies < 1:
        sys.exit("COPIES must be at least 1")
    if args.ram_gib and copies != 1:
        sys.exit("--ram-gib goes with COPIES 1")
    with open(src_path, "rb") as src:
        ehdr = list(EHDR.unpack(src.read(EHDR.size)))
        if ehdr[0][:4] != b"\x7fELF" or ehdr[0][4] != 2 or ehdr[0][5] != 1:
            sys.exit(f"{src_path}: not a little-endian ELF64 file")
        phoff, phnum = ehdr[5], ehdr[10]
        if phnum in (0, 0xFFFF):
            sys.exit(f"{src_path}: {phnum} program headers: not handled")
        src.seek(phoff)
        phdrs = [list(PHDR.unpack(src.read(PHDR.size))) for _ in range(phnum)]
        loads = [p for p in phdrs if p[0] == PT_LOAD]
        notes = [p for p in phdrs if p[0] == PT_NOTE]

        def contained(p):
            return any(q is not p and q[4] <= p[4] and p[4] + p[6] <= q[4] + q[6] for q in loads)

        ram = [p for p in loads if not contained(p)]
        top = max(p[4] + p[6] for p in loads)
        stride = (top + GIB - 1) // GIB * GIB

        patches = section_patches(src, loads, notes, copies, stride)
        new_phdrs = [list(p) for p in notes] + [list(p) for p in loads]
        end = args.ram_gib * GIB
        if args.ram_gib:
            if end <= stride:
                sys.exit(f"--ram-gib {args.ram_gib} is not above the input's RAM")
            base_vaddr, free_patches = add_free_ram(src, loads, vmcoreinfo(src, notes), stride, end)
            new_phdrs.append([PT_LOAD, ram[0][1], None, base_vaddr, stride, end - stride, end - stride, ram[0][7]])
            patches += free_patches
        for k in range(1, copies):
            for p in ram:
                q = list(p)
                q[3] += k * stride if q[3] else 0  # p_vaddr
                q[4] += k * stride  # p_paddr
                new_phdrs.append(q)

        # Layout: headers, the notes, then every PT_LOAD's data page-aligned.
        cursor = EHDR.size + PHDR.size * len(new_phdrs)
        plan = []  # (new header, source offset)
        for p in new_phdrs:
            cursor = (cursor + 4095) // 4096 * 4096
            plan.append((p, p[2]))
            p[2] = cursor
            cursor += p[5]  # p_filesz
        ehdr[10] = len(new_phdrs)
        ehdr[5] = EHDR.size

        with open(dst_path, "wb") as dst:
            dst.write(EHDR.pack(*ehdr))
            for p in new_phdrs:
                dst.write(PHDR.pack(*p))
            zero = bytes(CHUNK)
            for p, from_offset in plan:
                if from_offset is None:
                    continue  # free RAM: a hole but for the patches below
                src.seek(from_offset)
                left, at = p[5], p[2]
                while left:
                    block = src.read(min(CHUNK, left))
                    if not block:
                        sys.exit(f"{src_path}: ends inside a segment at offset {src.tell():#x}")
                    if block != zero[: len(block)]:
                        dst.seek(at)
                        dst.write(block)
                    at += len(block)
                    left -= len(block)
            dst.truncate(cursor)
            # Into the original RAM (every PT_LOAD holding it) or the free RAM.
            targets = new_phdrs[len(notes) : len(notes) + len(loads)] + (new_phdrs[-1:] if end else [])
            for paddr, entry in patches:
                for p in targets:
                    if p[4] <= paddr and paddr + len(entry) <= p[4] + p[5]:
                        dst.seek(p[2] + paddr - p[4])
                        dst.write(entry)
    if end:
        print(f"{dst_path}: {cursor / 1e9:.2f} GB, the input's RAM and free RAM up to {args.ram_gib} GiB")
    else:
        print(f"{dst_path}: {cursor / 1e9:.2f} GB, {copies} copies of {len(ram)} RAM segments, stride {stride:#x}, "
              f"{len(patches)} mem_section entries added")


if __name__ == "__main__":
    main()
