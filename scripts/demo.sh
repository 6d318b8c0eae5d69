#!/usr/bin/env bash
# Converts the shipped T1584.007 serverless-C2 rules to LogScale and Sumo Logic
# (generic and through the vendor pipelines) and verifies them on the shipped
# sample logs, generic and vendor-shaped, with the evaluator.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/sigc ./cmd/sigc
for target in logscale sumologic; do
  echo "== $target"
  bin/sigc convert -t "$target" examples/serverless
  echo
done
echo "== the same rules for real tenants: Falcon event model, Sumo Logic proxy source"
bin/sigc convert -t logscale -p crowdstrike_falcon examples/serverless
echo
bin/sigc convert -t sumologic -p sumologic_proxy -p examples/pipelines/acme.yml examples/serverless/proxy_serverless_connection.yml
echo
echo "== evaluator: proxy-log matches, then the beaconing correlations on beacon_endpoint.jsonl"
bin/sigc eval --logs examples/serverless/proxy.log --logs examples/serverless/beacon_endpoint.jsonl examples/serverless
echo "== evaluator over the Falcon-shaped logs with the pipeline: the same firings"
bin/sigc eval -p crowdstrike_falcon --logs examples/serverless/falcon/beacon_endpoint.jsonl examples/serverless
