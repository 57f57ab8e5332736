#!/usr/bin/env python3
"""Synthetic triage reports for the fleet benchmark, as JSON Lines.

  make_reports.py BASE.json N > reports.jsonl

Each line is BASE (a real `coroner triage --format json` report, without
its bulky context sections: log, tasks, modules, memory, run queues) as if
one of 5,000 hosts had crashed with one of 1,000 signatures (a few common,
most rare: a Zipf-like draw), at a time spread over one year.
"""
import json
import random
import sys

base_path, count = sys.argv[1], int(sys.argv[2])
with open(base_path) as f:
    base = json.load(f)
for bulky in ("active_tasks", "hung_tasks", "log", "memory", "modules", "run_queues", "checks"):
    base.pop(bulky, None)
base["system"]["nodename"] = "@HOST@"
base["system"]["crash_time"] = "@TIME@"
base["signature"]["hash"] = "@SIGNATURE@"
base["signature"]["title"] = "synthetic crash @SIGNATURE@"
template = json.dumps(base, separators=(",", ":")).replace('"@TIME@"', "@TIME@")
head, rest = template.split("@HOST@", 1)
random.seed(25)
start, span = 1_767_225_600, 365 * 86400  # 2026-01-01, one year
out = sys.stdout
for i in range(count):
    signature = "%016x" % (0x5eed000000000000 + min(int(random.paretovariate(1.0)) - 1, 999))
    line = (head + "host-%d" % random.randrange(5000) + rest).replace("@TIME@", str(start + i * span // count))
    out.write(line.replace("@SIGNATURE@", signature))
    out.write("\n")
