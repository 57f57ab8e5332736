#!/bin/sh
# The job of one index of a Kubernetes Indexed Job or a Slurm job array:
# triage the index's dump and ingest its report (docs/fleet.md).
#   indexed-triage.sh DUMP_LIST REPORT_DIR
# DUMP_LIST is a file with one dump path per line; the index -- Kubernetes'
# JOB_COMPLETION_INDEX or Slurm's SLURM_ARRAY_TASK_ID, from 0 -- picks line
# INDEX+1. The rest is triage-and-ingest.sh's (CORONER_FLEET_DB,
# CORONER_TRIAGE_ARGS, CORONER).
set -eu
if [ $# -ne 2 ]; then
  echo "usage: $0 DUMP_LIST REPORT_DIR" >&2
  exit 2
fi
index=${JOB_COMPLETION_INDEX:-${SLURM_ARRAY_TASK_ID:-}}
if [ -z "$index" ]; then
  echo "$0: neither JOB_COMPLETION_INDEX nor SLURM_ARRAY_TASK_ID is set" >&2
  exit 2
fi
dump=$(sed -n "$((index + 1))p" "$1")
if [ -z "$dump" ]; then
  echo "$0: $1 has no line $((index + 1)) for index $index" >&2
  exit 2
fi
exec "$(dirname "$0")/triage-and-ingest.sh" "$dump" "$2"
