#!/usr/bin/python3
"""Ground truth of a distro-kernel dump, read by drgn (Debian's python3-drgn)
with the kernel's -dbg vmlinux: what the no-vmlinux mode must answer the
same (tests/distro/README.md). Writes JSON to stdout.

usage: distro_facts.py VMLINUX ELF_DUMP
"""
import json
import sys

import drgn
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.printk import get_printk_records


def main():
    vmlinux, dump = sys.argv[1:3]
    prog = drgn.Program()
    prog.set_core_dump(dump)
    prog.load_debug_info([vmlinux])
    uts = prog["init_uts_ns"].name
    tasks = []
    for task in for_each_task(prog):
        tasks.append({
            "pid": task.pid.value_(),
            "ppid": task.real_parent.pid.value_(),
            "comm": task.comm.string_().decode(errors="replace"),
            "task": hex(task.value_()),
        })
    tasks.sort(key=lambda t: t["pid"])
    modules = [m.name.string_().decode() for m in
               list_for_each_entry("struct module", prog["modules"].address_of_(), "list")]
    log = [r.text.decode(errors="replace") for r in get_printk_records(prog)]
    symbols = {name: hex(prog.symbol(name).address)
               for name in ("init_task", "init_uts_ns", "panic", "schedule", "__start_BTF", "__stop_BTF")}
    json.dump({
        "release": uts.release.string_().decode(),
        "version": uts.version.string_().decode(),
        "machine": uts.machine.string_().decode(),
        "nodename": uts.nodename.string_().decode(),
        "tasks": tasks,
        "modules": sorted(modules),
        "log_last": log[-20:],
        "log_records": len(log),
        "symbols": symbols,
        "sizes": {"task_struct": prog.type("struct task_struct").size},
    }, sys.stdout, indent=1)
    print()


main()
