#!/usr/bin/env bash
# Converts the shipped T1584.007 serverless-C2 rules to LogScale and Sumo Logic
# and verifies them on the shipped sample logs with the evaluator.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/sigc ./cmd/sigc
for target in logscale sumologic; do
  echo "== $target"
  bin/sigc convert -t "$target" examples/serverless
  echo
done
echo "== evaluator: proxy-log matches, then the beaconing correlations on beacon_endpoint.jsonl"
bin/sigc eval --logs examples/serverless/proxy.log --logs examples/serverless/beacon_endpoint.jsonl examples/serverless
