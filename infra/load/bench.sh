#!/usr/bin/env bash
# make bench: the budgets, measured briefly on this machine. Runs the Go
# benchmarks of the hot parts, the load tool on the embedded store and on
# DynamoDB Local + MinIO (started by infra/testenv/with-services.sh), the
# Lambda cold-start benchmark and binary sizes (make lambdas), the widget's
# sizes (make widget-size), and prints one table (infra/load -summary).
# BENCH_SECONDS sets each load run's arrival time (default 15).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
secs=${BENCH_SECONDS:-15}
go build -o "$out/load" ./infra/load || exit 1

echo "== Go benchmarks (brief)" >&2
go test -run '^$' -bench 'AsyncLifecycle' -benchtime 30x ./internal/e2e/ | tee "$out/gobench.txt" >&2
go test -run '^$' -bench 'IssueLocalKey|RenderPDF' -benchtime 30x ./internal/pso/ | tee -a "$out/gobench.txt" >&2
go test -run '^$' -bench 'EligibilityAndChoice10k' -benchtime 2000x ./internal/routing/ | tee -a "$out/gobench.txt" >&2
go test -run '^$' -bench 'PutParallel' -benchtime 1s ./internal/store/boltstore/ | tee -a "$out/gobench.txt" >&2

echo "== load: embedded store, 50 concurrent patients" >&2
"$out/load" -serve embedded -rate 20 -concurrency 50 -duration "${secs}s" -read-ratio 3s -json "$out/embedded.json" -quiet >&2

echo "== load: DynamoDB Local + MinIO, with the cost model; Lambda cold start" >&2
if bash infra/testenv/with-services.sh bash -c "
	'$out/load' -serve dynamo -cost -rate 5 -concurrency 50 -duration ${secs}s -json '$out/dynamo.json' -quiet >&2
	make --no-print-directory lambdas >&2 && go test -run '^\$' -bench ColdStart -benchtime 10x ./functions/ | tee '$out/coldstart.txt' >&2
"; then :; else echo "bench: the DynamoDB Local run failed (see above)" >&2; fi
ls -l dist/*/bootstrap 2>/dev/null | awk '{print $5, $9}' > "$out/sizes.txt"

echo "== widget sizes" >&2
make --no-print-directory widget-size > "$out/widget.txt" 2>&1 || echo "bench: make widget-size failed" >&2
cat "$out/widget.txt" >&2

"$out/load" -summary "$out"
