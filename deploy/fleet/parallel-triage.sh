#!/bin/sh
# Triage every dump of a directory on one machine with GNU parallel, store
# the reports in the fleet database and write the fleet report
# (docs/fleet.md).
#   parallel-triage.sh [-j JOBS] DUMP_DIR REPORT_DIR
# Each regular file of DUMP_DIR is one dump. The reports go to
# REPORT_DIR/NAME.json, the fleet report to REPORT_DIR/fleet.html and, as
# text, to standard output. The database is $CORONER_FLEET_DB (default:
# REPORT_DIR/fleet.db); CORONER_TRIAGE_ARGS and CORONER as for
# triage-and-ingest.sh. A dump that cannot be triaged is listed in
# REPORT_DIR/failed.txt (parallel's job log: REPORT_DIR/jobs.log) and the
# exit status is 1; the others are still stored and reported.
set -eu
jobs=$(nproc)
if [ "${1:-}" = "-j" ]; then
  jobs=$2
  shift 2
fi
if [ $# -ne 2 ]; then
  echo "usage: $0 [-j JOBS] DUMP_DIR REPORT_DIR" >&2
  exit 2
fi
dumps=$1 reports=$2
here=$(cd "$(dirname "$0")" && pwd)
coroner=${CORONER:-coroner}
mkdir -p "$reports"
CORONER_FLEET_DB=${CORONER_FLEET_DB:-$reports/fleet.db}
export CORONER_FLEET_DB
status=0
# The database (its schema, WAL mode) is made by one process first: parallel
# first opens of a new SQLite file raced ("database is locked").
"$coroner" fleet report >/dev/null
find "$dumps" -maxdepth 1 \( -type f -o -type l \) ! -name '.*' -print0 | sort -z |
  parallel -0 --jobs "$jobs" --joblog "$reports/jobs.log" "$here/triage-and-ingest.sh" {} "$reports" >/dev/null ||
  status=1
# parallel's job log: column 7 is the exit value, the last the command.
awk -F'\t' 'NR > 1 && $7 != 0 { print $NF }' "$reports/jobs.log" > "$reports/failed.txt"
"$coroner" fleet report --format html -o "$reports/fleet.html"
"$coroner" fleet report
exit $status
