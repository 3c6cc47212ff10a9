#!/usr/bin/env bash
# Runs one command with DynamoDB Local, MinIO and ElasticMQ (SQS) started, as
# run-tests.sh runs the tests: installed if missing (cached), on free loopback ports,
# inside a loopback-only network namespace when the machine allows it, with
# GOODFAITH_* variables telling the command where they are; stopped after.
#
#   with-services.sh CMD [ARGS...]     e.g. with-services.sh go test -bench ColdStart ./functions/
set -euo pipefail
cd "$(dirname "$0")/../.."
readonly HERE=infra/testenv

inside() {
	ip link set lo up 2>/dev/null || true
	local state line
	state=$(mktemp -d)
	# shellcheck disable=SC2064 # expand $state now
	trap "bash $HERE/elasticmq.sh stop $state || true; bash $HERE/minio.sh stop $state || true; bash $HERE/dynamodb.sh stop $state || true; rm -rf $state" EXIT
	while IFS= read -r line; do export "${line?}"; done < <(bash "$HERE/dynamodb.sh" start "$state")
	while IFS= read -r line; do export "${line?}"; done < <(bash "$HERE/minio.sh" start "$state")
	while IFS= read -r line; do export "${line?}"; done < <(bash "$HERE/elasticmq.sh" start "$state")
	GOPROXY=off "$@"
}

if [ "${1:-}" = "--inside" ]; then
	shift
	inside "$@"
	exit
fi
[ $# -gt 0 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }
bash "$HERE/dynamodb.sh" install
bash "$HERE/minio.sh" install
bash "$HERE/elasticmq.sh" install
go mod download
if unshare -n true 2>/dev/null; then
	exec unshare -n bash "$0" --inside "$@"
fi
echo "with-services.sh: cannot create a network namespace here; services listen on the host network (loopback addresses)" >&2
inside "$@"
