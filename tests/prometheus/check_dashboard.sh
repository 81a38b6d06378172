#!/usr/bin/env bash
# Every PromQL expression of the Grafana dashboard parses (promtool check rules
# on them as recording rules, Grafana's variables replaced by values) and names
# only metrics the agent writes (those in the golden metrics file) or time().
# The alert rules (RULES.yml) may name only those metrics too.
# (grep -q reads a here-string, not a pipe: under pipefail a writer still
# writing when grep -q has matched and exited would get SIGPIPE and fail it.)
# Usage: check_dashboard.sh DASHBOARD.json GOLDEN.prom [RULES.yml]
set -euo pipefail
dash=$1 golden=$2 rules=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jq -e '.panels | length > 0' "$dash" > /dev/null || { echo "FAIL $dash has no panels"; exit 1; }
# shellcheck disable=SC2016 # the sed expressions match Grafana's $variables literally
{
  echo "groups:"
  echo "  - name: dashboard"
  echo "    rules:"
  jq -r '.panels[].targets[].expr' "$dash" |
    sed -e 's/\$__rate_interval/5m/g' -e 's/\$instance/.*/g' |
    { n=0; while IFS= read -r e; do
      n=$((n + 1))
      printf '      - record: dashboard:expr_%d\n        expr: %s\n' "$n" "$(jq -Rn --arg e "$e" '$e')"
    done; }
} > "$tmp/rules.yml"
promtool check rules "$tmp/rules.yml"
known=$(sed -n 's/^# TYPE \([a-z_]*\) \(.*\)/\1 \2/p' "$golden")
used=$( { jq -r '.panels[].targets[].expr' "$dash"; [ -z "$rules" ] || grep -v '^ *#' "$rules"; } |
        grep -o 'gpu_agent_[a-z_]*' | sort -u)
for m in $used; do
  base=$m
  for suffix in _bucket _sum _count; do
    [ "${m%"$suffix"}" != "$m" ] && grep -q "^${m%"$suffix"} histogram" <<< "$known" && base=${m%"$suffix"}
  done
  grep -q "^$base " <<< "$known" || { echo "FAIL the dashboard or the rules use $m, which the agent does not write"; exit 1; }
done
echo "ok   $(jq '[.panels[].targets[]] | length' "$dash") dashboard expressions parse; they${rules:+ and the rules} use only the agent's metrics"
