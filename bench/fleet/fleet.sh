#!/usr/bin/env bash
# coroner fleet at volume: ingest throughput (reports/s) and the time of the
# fleet report over N synthetic triage reports (default 1,000,000), into an
# SQLite file and into a PostgreSQL server started for the run (Debian's
# postgresql-15, a unix socket in a temporary directory, fsync on).
#   bench/fleet/fleet.sh [BUILD_DIR] [N]
# The reports (bench/fleet/make_reports.py: one real triage report of the
# x86_64 oops made into 1,000 signatures on 5,000 hosts over a year) are
# made once into BUILD_DIR/bench-fleet/ and ingested as JSON Lines on
# standard input (coroner fleet ingest -), in transactions of 1,000.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(realpath "${1:-build}")
count=${2:-1000000}
coroner=$build/analyzer/coroner
work=$build/bench-fleet
mkdir -p "$work"
export CORONER_CACHE_DIR=$build/test-cache/coroner CORONER_BACKGROUND_INDEX=0
fixture=${CORONER_FIXTURES:-../shared/fixtures}/linux-6.1-x86_64
base=$work/base.json
[ -s "$base" ] || "$coroner" triage --format json -o "$base" "$fixture/vmlinux.zst" "$fixture/oops-kdump/d31"
reports=$work/reports-$count.jsonl
if [ ! -s "$reports" ]; then
  python3 bench/fleet/make_reports.py "$base" "$count" > "$reports.partial"
  mv "$reports.partial" "$reports"
fi
echo "$count reports, $(du -m "$reports" | cut -f1) MiB of JSON Lines"

# seconds CMD...: wall-clock seconds of CMD (its output to $work/out); its
# CPU seconds (user + system) in $work/cpu.
seconds() {
  /usr/bin/time -o "$work/time" -f "%e %U %S" "$@" > "$work/out"
  awk '{ printf "%.2f", $2 + $3 > "'"$work/cpu"'"; printf "%.2f", $1 }' "$work/time"
}

# measure NAME DB: one row of the table.
measure() {
  local name=$1 db=$2 ingest ingest_cpu report_json report_html report_since since
  ingest=$(seconds "$coroner" fleet ingest --db "$db" - < "$reports")
  ingest_cpu=$(cat "$work/cpu")
  grep -q "^$count reports: $count new dumps" "$work/out" || { echo "ingest into $name: $(cat "$work/out")" >&2; exit 1; }
  report_json=$(seconds "$coroner" fleet report --db "$db" --format json)
  grep -q "\"dumps\": $count," "$work/out" || { echo "report of $name: wrong count" >&2; exit 1; }
  report_html=$(seconds "$coroner" fleet report --db "$db" --format html -o "$work/fleet-$name.html")
  since=$((1767225600 + 335 * 86400))  # the last 30 days of the year
  report_since=$(seconds "$coroner" fleet report --db "$db" --format json --since "$since")
  awk -v name="$name" -v n="$count" -v i="$ingest" -v c="$ingest_cpu" -v j="$report_json" -v h="$report_html" \
    -v s="$report_since" \
    'BEGIN { printf "| %s | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", name, n, n / i, i, c, j, h, s }'
}

echo "| database | reports | ingest (reports/s) | ingest (s) | coroner's CPU in ingest (s) | report json (s) | report html (s) | report --since 30 days (s) |"
echo "|---|---|---|---|---|---|---|---|"
rm -f "$work/fleet.db" "$work/fleet.db-wal" "$work/fleet.db-shm"
measure sqlite "$work/fleet.db"
echo "  (SQLite file: $(du -m "$work/fleet.db" | cut -f1) MiB)" >&2

pg=$(mktemp -d /tmp/coroner-bench-pg.XXXXXX)
as_user=()
if [ "$(id -u)" = 0 ]; then chown postgres "$pg"; as_user=(runuser -u postgres --); fi
bin=/usr/lib/postgresql/15/bin
"${as_user[@]}" "$bin/initdb" -D "$pg/data" -A trust -U coroner > /dev/null
"${as_user[@]}" "$bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -o "-k $pg -c listen_addresses=" start > /dev/null
trap '"${as_user[@]}" "$bin/pg_ctl" -D "$pg/data" -m fast -w stop > /dev/null; rm -rf "$pg"' EXIT
measure postgresql "postgresql:///postgres?host=$pg&user=coroner"
echo "  (PostgreSQL database: $("$bin/psql" -X -A -t -d "postgresql:///postgres?host=$pg&user=coroner" \
  -c "SELECT pg_database_size('postgres') / 1048576") MiB)" >&2
