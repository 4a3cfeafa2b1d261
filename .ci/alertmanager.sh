#!/usr/bin/env bash
# Real Prometheus + Alertmanager for the monitoring intake (docs/subsystems/alerts.md).
#
#   bash .ci/alertmanager.sh install   # apt-get install prometheus prometheus-alertmanager (root)
#   bash .ci/alertmanager.sh test      # install if needed, then the processes test against them
#   bash .ci/alertmanager.sh up URL    # start both on free 127.0.0.1 ports, webhook -> URL;
#                                      # prints the env file with the ports and PIDs, for manual tries
#
# The pytest test (tests/alerts/test_real_alertmanager.py) starts its own Prometheus,
# Alertmanager, exporter and live OpsDesk; `test` only makes sure the binaries exist and
# runs it with CI=true so a missing binary fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

install() {
  if [ -x /usr/bin/prometheus ] && [ -x /usr/bin/prometheus-alertmanager ]; then
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "prometheus/prometheus-alertmanager missing and not root to install them" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager
  # The packages start system services on the default ports; the tests use their own.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus prometheus-alertmanager prometheus-node-exporter \
      >/dev/null 2>&1 || true
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

up() {
  local url=${1:?usage: alertmanager.sh up WEBHOOK_URL}
  local dir prom_port am_port
  dir=$(mktemp -d)
  prom_port=$(free_port)
  am_port=$(free_port)
  cat >"$dir/rules.yml" <<RULES
groups:
  - name: opsdesk-manual
    rules:
      - alert: OpsDeskManualTest
        # Fires at once. To resolve: write "groups: []" into this file, then kill -HUP the Prometheus PID.
        expr: vector(1)
        labels: {severity: warning}
        annotations: {summary: 'OpsDesk manual test alert'}
RULES
  cat >"$dir/prometheus.yml" <<PROM
global: {scrape_interval: 2s, evaluation_interval: 2s}
rule_files: ['$dir/rules.yml']
alerting:
  alertmanagers: [{static_configs: [{targets: ['127.0.0.1:$am_port']}]}]
PROM
  cat >"$dir/alertmanager.yml" <<AM
global: {resolve_timeout: 5s}
route: {receiver: opsdesk, group_by: [alertname], group_wait: 1s, group_interval: 2s, repeat_interval: 1h}
receivers:
  - name: opsdesk
    webhook_configs: [{url: '$url', send_resolved: true}]
AM
  /usr/bin/prometheus-alertmanager --config.file="$dir/alertmanager.yml" \
    --storage.path="$dir/am" --web.listen-address="127.0.0.1:$am_port" \
    --cluster.listen-address= >"$dir/alertmanager.log" 2>&1 &
  local am_pid=$!
  /usr/bin/prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/prom" \
    --web.listen-address="127.0.0.1:$prom_port" --rules.alert.resend-delay=1s \
    >"$dir/prometheus.log" 2>&1 &
  local prom_pid=$!
  cat >"$dir/env" <<ENV
PROMETHEUS_PORT=$prom_port
ALERTMANAGER_PORT=$am_port
PROMETHEUS_PID=$prom_pid
ALERTMANAGER_PID=$am_pid
MONITORING_DIR=$dir
ENV
  echo "$dir/env"
}

case ${1:-test} in
  install) install ;;
  up) install; shift; up "$@" ;;
  test)
    install
    CI=true .venv/bin/pytest tests/alerts/test_real_alertmanager.py -q -p no:cacheprovider
    ;;
  *) echo "usage: $0 install|test|up URL" >&2; exit 2 ;;
esac
