#!/usr/bin/env bash
# Retention purge under ingest: loads ~1 M samples of finished runs into an archive project, backdates them, then
# measures the acknowledgement latency of paced writers in another project before, during and after the retention
# grain exports and deletes the archive (bench/purge.py). Real silo and gateway processes (Release) on free ports, a
# database of its own on this checkout's local PostgreSQL ($OPTRUNS_PG_PORT), the export in a temporary directory
# that is removed at the end. Extra arguments go to bench/purge.py (--runs, --samples-per-run, --writers, --batch,
# --interval, --window, --windows-before, --windows-after; `bench/purge.py --help`). The last line printed is one JSON
# object; exit status 1 when the archive was not emptied or a live sample acknowledged is missing. About 10 minutes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

case "${1:-}" in
  -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; python3 "$OPTRUNS_ROOT/bench/purge.py" --help | sed -n '/^options:/,$p'; exit 0 ;;
esac

exports=$(mktemp -d /tmp/optruns-purge-XXXXXX)
temp_paths+=("$exports")

bench_database "optruns_pbench_$$"
# A pass every 5 s (the default is 10 min) so the purge starts as soon as the policy is set; batches and the pause
# between deleted runs as shipped.
# BENCH_SILO_ENV may hold more KEY=VALUE settings for the silo (e.g. "Retention__PauseBetweenRuns=00:00:01").
bench_start_system purge Retention__ExportDirectory="$exports" Retention__Period=00:00:05
log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
set +e
PGPASSWORD="$OWNER_PASSWORD" python3 "$OPTRUNS_ROOT/bench/purge.py" --url "$url" --admin-key "$OPTRUNS_ADMIN_KEY" --silo-pid "$silo_pid" \
  --psql "$(pg_bindir)/psql postgresql://optruns_owner@127.0.0.1:$OPTRUNS_PG_PORT/$database" "$@"
status=$?
set -e
log "load average: $(cut -d' ' -f1-3 /proc/loadavg); exported $(du -sh "$exports" | cut -f1) to $exports before it is removed"
exit "$status"
