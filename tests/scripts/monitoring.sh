#!/usr/bin/env bash
# The monitoring in deploy/, checked for real: promtool validates deploy/prometheus (config and alert rules) and runs
# the rules' unit tests (alerts.test.yml: a stalled run, a database down, a silo down, overload, slow commits, 5xx
# each fire on synthetic series); then a silo and a gateway are started on free ports, a real Prometheus (Debian's
# package, on a temporary folder) scrapes both while the Python simulator ingests and a live-event stream is open,
# the alert rules load and evaluate without error, and every query of every panel of the Grafana dashboard
# (deploy/grafana/dashboards/*.json) returns data: at least one series with a number.
#
# Usage: tests/scripts/monitoring.sh   (scripts/test runs it without arguments after building; needs the built silo
# and gateway of OPTRUNS_CONFIGURATION, default Debug, and the database settings scripts/test exports, or none: then a
# database of its own on this checkout's local PostgreSQL). Installs Debian's prometheus when promtool is missing
# (as root, or with sudo), without starting its service. Exit status 0 when every check passed; each prints "ok" or "FAIL".
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/lib.sh"

CONFIGURATION="${OPTRUNS_CONFIGURATION:-Debug}"
work=$(mktemp -d)
failures=0
pids=()
own_database=""
ok() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
check() { local what="$1"; shift; if "$@" >>"$work/checks.log" 2>&1; then ok "$what"; else fail "$what (see $work/checks.log)"; fi; }
finish() {
  stop_processes
  [ -z "$own_database" ] || drop_database "$own_database"
  [ "${PG_STARTED_HERE:-0}" != 1 ] || stop_local_postgres
}
trap finish EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { local seconds="$1" url="$2"; for _ in $(seq 1 "$seconds"); do curl -fsS -o /dev/null "$url" 2>/dev/null && return 0; sleep 1; done; return 1; }

# Debian's prometheus brings promtool. Its service is not started: policy-rc.d forbids it while the package installs
# (a machine without one gets a temporary one).
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  log "promtool not found: installing Debian's prometheus (its service is not started)"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy"
  fi
  apt_install "the monitoring checks need promtool and prometheus" --no-install-recommends prometheus
  [ -z "$policy" ] || $sudo rm -f "$policy"
fi

# 1. The configuration and the rules, statically and by their unit tests.
deploy="$root/deploy/prometheus"
check "promtool check config deploy/prometheus/prometheus.yml" promtool check config "$deploy/prometheus.yml"
check "promtool check rules deploy/prometheus/alerts.yml" promtool check rules "$deploy/alerts.yml"
check "promtool test rules deploy/prometheus/alerts.test.yml (stalled run, database down, … fire)" \
  bash -c 'cd "$1" && promtool test rules alerts.test.yml' _ "$deploy"
rules=$(grep -c '^ *- alert: ' "$deploy/alerts.yml")

# 2. A silo and a gateway on free ports, on the database scripts/test prepared (or one of our own).
if [ -z "${ConnectionStrings__Postgres:-}" ]; then
  own_database="optruns_monitoring_$$"
  mkdir -p "$root/.data/logs"
  ensure_local_postgres
  ensure_database "$own_database"
  export_local_connection_strings "$own_database"
  migrate_up "$CONFIGURATION" || { fail "migrations"; exit 1; }
fi
for dll in "$(silo_dll "$CONFIGURATION")" "$(gateway_dll "$CONFIGURATION")"; do
  [ -f "$dll" ] || { fail "$dll is missing: build first (dotnet build OptimizationRuns.sln -c $CONFIGURATION)"; exit 1; }
done
export Orleans__SiloPort; Orleans__SiloPort=$(free_port)
export Orleans__GatewayPort; Orleans__GatewayPort=$(free_port)
unset Orleans__Gateways Cluster__Membership
silo_metrics=$(free_port)
http=$(free_port)
url="http://127.0.0.1:$http"
admin="adm_$(random_secret)"
# Listening on a host named for it, as in docker-compose.yml (there the container's name), and scraped by that name.
Telemetry__PrometheusPort="$silo_metrics" Telemetry__PrometheusHost=127.0.0.1 OTEL_SERVICE_NAME=optruns-silo \
  dotnet "$(silo_dll "$CONFIGURATION")" >"$work/silo.log" 2>&1 &
pids+=($!)
ASPNETCORE_URLS="$url" OPTRUNS_ADMIN_KEY="$admin" dotnet "$(gateway_dll "$CONFIGURATION")" >"$work/gateway.log" 2>&1 &
pids+=($!)

# 3. Prometheus on a temporary folder, scraping both every second, with deploy's rules.
prom_port=$(free_port)
prom="http://127.0.0.1:$prom_port"
cp "$deploy/alerts.yml" "$work/alerts.yml"
cat >"$work/prometheus.yml" <<YAML
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [alerts.yml]
scrape_configs:
  - job_name: optruns-gateway
    static_configs: [{ targets: ["127.0.0.1:$http"] }]
  - job_name: optruns-silo
    static_configs: [{ targets: ["127.0.0.1:$silo_metrics"] }]
YAML
check "promtool check config (the test's scrape targets)" promtool check config "$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" --web.listen-address="127.0.0.1:$prom_port" \
  >"$work/prometheus.log" 2>&1 &
pids+=($!)

# A loaded CI machine (load 60-100 on 2 cores) has taken over a minute to start a silo.
if ! wait_http 180 "$url/health/ready"; then
  fail "the silo and the gateway were not ready within 180 s"; tail -n 20 "$work/silo.log" "$work/gateway.log"; exit 1
fi
ok "silo (metrics on 127.0.0.1:$silo_metrics) and gateway ($url) ready"
check "Prometheus is ready ($prom)" wait_http 30 "$prom/-/ready"

promql() { python3 - "$prom" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
answer = json.load(urllib.request.urlopen(f"{sys.argv[1]}/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[2]})))
result = answer["data"]["result"]
print(sys.argv[2], "→", result)
sys.exit(0 if result else 1)
PY
}
# Ingest only once Prometheus has scraped both targets: a counter first scraped after the ingest has ended reads flat
# (increase 0), and the ingest below takes about 3 s.
scraped() { for _ in $(seq 1 "$1"); do promql 'count(up{job=~"optruns-.*"} == 1) == 2' >/dev/null 2>&1 && return 0; sleep 1; done; return 1; }
check "Prometheus scraped the silo and the gateway before the ingest" scraped 30

# 4. Some ingest: a project, a watched run with samples, and the simulator's MIPROv2-shaped runs.
admin_call() { curl -fsS -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' "$@"; }
project=$(python3 -c 'import uuid; print(uuid.uuid4())')
key=$(admin_call -X POST "$url/api/projects" -d "{\"id\":\"$project\",\"name\":\"monitoring\"}" >/dev/null &&
  admin_call -X POST "$url/api/projects/$project/api-keys" -d '{"name":"monitoring"}' | jq -r .key)
[ -n "$key" ] && [ "$key" != null ] || { fail "could not create a project and its key"; exit 1; }
call() { curl -fsS -H "Authorization: Bearer $key" -H 'Content-Type: application/json' "$@"; }
run=$(call -X POST "$url/api/optimization/runs" -d '{"runName":"watched","optimizerType":"miprov2","config":{}}' | jq -r .id)
curl -sS -N -H "Authorization: Bearer $key" "$url/api/optimization/runs/$run/events" >"$work/events.log" 2>&1 &
pids+=($!)
call -X PATCH "$url/api/optimization/runs/$run" -d '{"status":"running"}' >/dev/null
call -X POST "$url/api/optimization/runs/$run/samples" \
  -d "$(python3 -c 'import json; print(json.dumps({"samples": [{"iteration": 0, "sampleIndex": i, "score": 1.0, "success": True} for i in range(50)]}))')" >/dev/null
PYTHONPATH="$root/clients/python${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1 timeout 120 \
  python3 -m optruns.simulate --url "$url" --api-key "$key" --runs 2 --mode light --workers 2 --speed 200 --quiet \
  >"$work/simulate.log" 2>&1
simulated=$?
check "the simulator played two runs (status $simulated)" test "$simulated" = 0
check "the watched run's live-event stream saw its status change" grep -q '^event: status' "$work/events.log"
# Two more scrapes of both targets after the last write, so every rate has its points.
sleep 3

# 5. What happened shows: samples committed, the stream counted, the database up.
check "Prometheus saw samples committed by the silo" promql 'sum(increase(optruns_samples_committed_total[1m])) > 0'
check "Prometheus saw the open live-event stream" promql 'max_over_time(optruns_sse_subscribers[1m]) >= 1'
check "Prometheus saw a run running" promql 'max_over_time(optruns_runs_by_status{status="running"}[1m]) >= 1'
check "the silo reports the database up" promql 'optruns_database_up == 1'

# 6. The rules load in the real Prometheus and evaluate without error.
check "Prometheus loaded the $rules alert rules and evaluates them without error" python3 - "$prom" "$rules" <<'PY'
import json, sys, urllib.request
prom, expected = sys.argv[1], int(sys.argv[2])
groups = json.load(urllib.request.urlopen(f"{prom}/api/v1/rules"))["data"]["groups"]
rules = [r for g in groups for r in g["rules"]]
bad = [(r["name"], r.get("lastError")) for r in rules if r.get("health") != "ok"]
print(f"{len(rules)} rules loaded, unhealthy: {bad}")
sys.exit(0 if len(rules) == expected and not bad else 1)
PY
check "Prometheus scrapes both targets (up == 1)" python3 - "$prom" <<'PY'
import json, sys, urllib.request, urllib.parse
prom = sys.argv[1]
result = json.load(urllib.request.urlopen(f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": "up"})))["data"]["result"]
print(result)
sys.exit(0 if sorted(r["metric"]["job"] for r in result if r["value"][1] == "1") == ["optruns-gateway", "optruns-silo"] else 1)
PY

# 7. Every query of every Grafana panel returns data (Grafana's $__rate_interval and friends as 1m).
for dashboard in "$root"/deploy/grafana/dashboards/*.json; do
  python3 - "$prom" "$dashboard" <<'PY' | tee -a "$work/panels.log"
import json, math, sys, urllib.parse, urllib.request
prom, path = sys.argv[1], sys.argv[2]
dashboard = json.load(open(path))
def panels(items):
    for p in items:
        yield p
        yield from panels(p.get("panels", []))
queries = [(p["title"], t["expr"]) for p in panels(dashboard["panels"]) for t in p.get("targets", []) if t.get("expr")]
if not queries:
    print(f"FAIL  {path}: no panel queries")
for title, expr in queries:
    promql = expr
    for variable in ("$__rate_interval", "$__interval", "$__range"):
        promql = promql.replace(variable, "1m")
    try:
        answer = json.load(urllib.request.urlopen(f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": promql})))
        values = [float(r["value"][1]) for r in answer["data"]["result"]]
        numbers = [v for v in values if not math.isnan(v)]
        verdict = "ok   " if numbers else "FAIL "
        detail = f"{len(values)} series, e.g. {numbers[0]:g}" if numbers else f"no data ({len(values)} series, all NaN)" if values else "no data"
    except Exception as error:
        verdict, detail = "FAIL ", f"error: {error}"
    print(f"{verdict} panel \"{title}\": {expr} → {detail}")
PY
done
panel_failures=$(grep -c '^FAIL' "$work/panels.log")
failures=$((failures + panel_failures))
check "every dashboard query was evaluated ($(grep -c '^ok' "$work/panels.log") returned data)" test "$panel_failures" = 0

echo "monitoring checks: $failures failed in $SECONDS s (logs: $work)"
[ "$failures" = 0 ]
