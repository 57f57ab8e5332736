#!/bin/sh
# One fleet job: triage one dump and ingest its report (docs/fleet.md).
#   triage-and-ingest.sh DUMP REPORT_DIR
# Writes REPORT_DIR/NAME.json (NAME: the dump's file name) with
# `coroner triage --format json`, then stores it with `coroner fleet ingest`.
# Environment:
#   CORONER_FLEET_DB      the store (postgresql://... or an SQLite file)
#   CORONER_TRIAGE_ARGS   more triage options, e.g. "--debuginfo-dir /debug"
#                         (the vmlinux is found by the dump's build-id there,
#                         in /usr/lib/debug or through DEBUGINFOD_URLS)
#   CORONER               the coroner executable (default: coroner on PATH)
set -eu
if [ $# -ne 2 ]; then
  echo "usage: $0 DUMP REPORT_DIR" >&2
  exit 2
fi
dump=$1 reports=$2
coroner=${CORONER:-coroner}
name=$(basename "$dump")
mkdir -p "$reports"
# A report appears whole or not at all: written aside, then renamed.
# shellcheck disable=SC2086 # CORONER_TRIAGE_ARGS is a list of options
"$coroner" triage --format json -o "$reports/.$name.json.partial" ${CORONER_TRIAGE_ARGS:-} "$dump"
mv "$reports/.$name.json.partial" "$reports/$name.json"
"$coroner" fleet ingest "$reports/$name.json"
