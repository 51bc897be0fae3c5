#!/usr/bin/env bash
# The benchmark series of docs/benchmark.md in one command: for each configuration, start the
# production stack (scripts/production.py), drive it with scripts/bench_load.py, stop it.
#
#   bash scripts/bench_series.sh                    # ours with 1 and 2 Rasa servers, then stock
#   SERIES="ours2" bash scripts/bench_series.sh     # only some of: ours1 ours2 stock
#   SOAK=1800 bash scripts/bench_series.sh          # adds the 30-minute soak (2 Rasa servers)
#   SERIES= SOAK=1800 bash scripts/bench_series.sh  # the soak alone
#
# Results: var/bench/<label>.json and a table per run on stdout. Needs nginx (Debian nginx-light)
# and, for the stock comparison, `rasa init` in /tmp/stock-rasa (made here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
SERIES=${SERIES-"ours1 ours2 stock"}
SOAK=${SOAK:-0}
DURATION=${DURATION:-60}
TAG=${TAG:-$(date +%Y%m%d-%H%M)}
STOCK_DIR=${STOCK_DIR:-/tmp/stock-rasa}

# Throwaway credentials for the WhatsApp channel; the Graph API is the driver's own receiver.
export WHATSAPP_VERIFY_TOKEN=bench WHATSAPP_ACCESS_TOKEN=bench-token
export WHATSAPP_APP_SECRET=${WHATSAPP_APP_SECRET:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}
export WHATSAPP_PHONE_NUMBER_ID=100000000000001 WHATSAPP_API_BASE_URL=http://127.0.0.1:8089

stack_pid=""
stop_stack() {
  if [ -n "$stack_pid" ]; then
    kill -TERM "$stack_pid" 2>/dev/null || true
    wait "$stack_pid" 2>/dev/null || true
    stack_pid=""
  fi
}
trap stop_stack EXIT

start_stack() {  # start_stack <log> <production.py start arguments...>
  local log=$1; shift
  "$PY" scripts/production.py start --quiet "$@" >"$log" 2>&1 &
  stack_pid=$!
  for _ in $(seq 1 300); do
    if grep -q "production: ready" "$log"; then return 0; fi
    if ! kill -0 "$stack_pid" 2>/dev/null; then cat "$log"; return 1; fi
    sleep 1
  done
  echo "bench: the stack did not come up; see $log" >&2
  return 1
}

drive() {  # drive <scripts> <label>
  local scripts=$1 label=$2
  sleep 5  # let the servers settle after start-up
  "$PY" scripts/bench_load.py --scripts "$scripts" --users 40 --think-min 0.5 --think-max 1 \
    --duration "$DURATION" --warmup 10 --conversations-per-user 2 --label "$TAG-$label-closed40" || true
  for rate in 10 20; do
    "$PY" scripts/bench_load.py --scripts "$scripts" --rate "$rate" --users 40 --duration "$DURATION" \
      --warmup 10 --conversations-per-user 2 --label "$TAG-$label-rate$rate" || true
  done
}

mkdir -p var/log/bench
for config in $SERIES; do
  case $config in
    ours1) start_stack var/log/bench/ours1.log --rasa 1 --actions 1 && drive panchayat ours1 ;;
    ours2) start_stack var/log/bench/ours2.log --rasa 2 --actions 1 --tf-threads 1 && drive panchayat ours2 ;;
    stock)
      if [ ! -d "$STOCK_DIR/models" ]; then mkdir -p "$STOCK_DIR"; .venv/bin/rasa init --no-prompt --init-dir "$STOCK_DIR"; fi
      model=$(ls -t "$STOCK_DIR"/models/*.tar.gz | head -1)
      DATABASE_URL=postgresql://postgres@127.0.0.1:5432/panchayat_stock \
      TRACKER_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/rasa_tracker_stock \
        start_stack var/log/bench/stock.log --rasa 1 --actions 1 --model "$model"
      drive stock stock1 ;;
    *) echo "bench: unknown configuration $config" >&2; exit 2 ;;
  esac
  stop_stack
done

if [ "$SOAK" != "0" ]; then
  start_stack var/log/bench/soak.log --rasa 2 --actions 1 --tf-threads 1
  sleep 5
  "$PY" scripts/bench_load.py --rate 10 --users 30 --soak "$SOAK" --warmup 30 --sample-every 15 \
    --conversations-per-user 2 --label "$TAG-soak-rate10" || true
  stop_stack
fi
