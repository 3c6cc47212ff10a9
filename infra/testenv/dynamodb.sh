#!/usr/bin/env bash
# Installs and runs DynamoDB Local for the tests of the DynamoDB store adapter.
#
#   dynamodb.sh install          fetch the official DynamoDB Local jar (once)
#   dynamodb.sh start STATEDIR   start it in memory on a free loopback port and
#                                print GOODFAITH_DYNAMODB_ENDPOINT=http://127.0.0.1:N
#   dynamodb.sh stop STATEDIR    stop it (harmless when it is not running)
#
# STATEDIR receives dynamodb.pid, dynamodb.log and dynamodb.endpoint. Calling
# start again while that instance still answers prints its endpoint again.
#
# The jar is the one AWS publishes; the npm package amplify-dynamodb-simulator
# ships it (emulator/DynamoDBLocal.jar and emulator/DynamoDBLocal_lib), so
# installing needs only npm, and running needs only Java 17.
#
# Binding: DynamoDB Local (1.25.1 in the pinned package) has no option to choose
# the listening address (see `java -jar DynamoDBLocal.jar -help`: only -port);
# it builds its Jetty server with `new Server(port)`, which listens on every
# interface. We can only make sure clients use 127.0.0.1: the printed endpoint
# is loopback, and the server runs in memory with throwaway credentials, with
# telemetry disabled. Run the tests on a machine whose firewall keeps the port
# private if that matters to you.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
readonly PROCESS_PATTERN="DynamoDBLocal.jar"

# Pinned package version; bump deliberately (it fixes the jar version).
readonly SIMULATOR_VERSION="2.9.30"
readonly CACHE_DIR="${GOODFAITH_CACHE:-$HOME/.cache/goodfaith}/dynamodb"
readonly PKG_DIR="$CACHE_DIR/node_modules/amplify-dynamodb-simulator"
readonly EMULATOR_DIR="$PKG_DIR/emulator"
readonly JAR="$EMULATOR_DIR/DynamoDBLocal.jar"
readonly LIB_DIR="$EMULATOR_DIR/DynamoDBLocal_lib"
readonly START_TIMEOUT_SECONDS=60
readonly STOP_TIMEOUT_SECONDS=15

die() {
	echo "dynamodb.sh: $*" >&2
	exit 1
}

usage() {
	cat >&2 <<EOF
usage: $0 install
       $0 start STATEDIR
       $0 stop STATEDIR
EOF
	exit 2
}

# installed_version prints the version of the installed package, or nothing.
installed_version() {
	local manifest="$PKG_DIR/package.json"
	[[ -f $manifest ]] || return 0
	node -e 'process.stdout.write(String(require(process.argv[1]).version || ""))' "$manifest" 2>/dev/null || true
}

is_installed() {
	[[ -f $JAR && -d $LIB_DIR && "$(installed_version)" == "$SIMULATOR_VERSION" ]]
}

cmd_install() {
	if is_installed; then
		echo "dynamodb.sh: DynamoDB Local already installed in $EMULATOR_DIR" >&2
		return 0
	fi
	command -v npm >/dev/null || die "npm is required to install DynamoDB Local"
	mkdir -p "$CACHE_DIR"
	[[ -f $CACHE_DIR/package.json ]] || echo '{"private": true}' >"$CACHE_DIR/package.json"
	echo "dynamodb.sh: installing amplify-dynamodb-simulator@$SIMULATOR_VERSION into $CACHE_DIR" >&2
	# The package has no install scripts we need: we only want the jar it ships.
	# npm's own output goes to stderr so that stdout stays clean for callers.
	npm install --prefix "$CACHE_DIR" --no-audit --no-fund --save-exact --ignore-scripts \
		"amplify-dynamodb-simulator@$SIMULATOR_VERSION" >&2
	is_installed || die "npm install finished but $JAR or $LIB_DIR is missing"
}

# free_port prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
	node -e '
		const srv = require("net").createServer();
		srv.listen(0, "127.0.0.1", () => {
			process.stdout.write(String(srv.address().port));
			srv.close();
		});'
}

# answers PORT succeeds when an HTTP server answers on 127.0.0.1:PORT.
answers() {
	local port=$1 line=""
	# A subshell keeps the descriptor and any connection error local.
	(
		exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
		printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
		IFS= read -r -t 2 line <&3 || exit 1
		[[ $line == HTTP/* ]]
	) 2>/dev/null
}

cmd_start() {
	local statedir=$1
	is_installed || die "DynamoDB Local is not installed; run: $0 install"
	command -v java >/dev/null || die "java (17 or later) is required to run DynamoDB Local"
	command -v node >/dev/null || die "node is required to pick a free port"
	mkdir -p "$statedir"
	statedir=$(cd "$statedir" && pwd)
	local pidfile="$statedir/dynamodb.pid" logfile="$statedir/dynamodb.log"
	local endpointfile="$statedir/dynamodb.endpoint"

	# Already running from this state directory: report it again.
	local pid
	if pid=$(our_pid "$pidfile") && [[ -f $endpointfile ]]; then
		local endpoint port
		endpoint=$(<"$endpointfile")
		port=${endpoint##*:}
		if answers "$port"; then
			echo "GOODFAITH_DYNAMODB_ENDPOINT=$endpoint"
			return 0
		fi
		cmd_stop "$statedir"
	fi

	# Another process may take the port between our probe and Java's bind, so
	# try a few ports before giving up.
	local attempt port started
	for attempt in 1 2 3; do
		port=$(free_port)
		[[ $port =~ ^[0-9]+$ ]] || die "could not find a free port"
		{
			echo "--- $(date -u +%Y-%m-%dT%H:%M:%SZ) starting DynamoDB Local on port $port (attempt $attempt)"
		} >>"$logfile"
		# cwd is the state directory so that anything the jar writes lands
		# there; stdin/stdout/stderr are detached so that `$(… start …)` returns.
		(
			cd "$statedir"
			exec java -Djava.library.path="$LIB_DIR" -jar "$JAR" \
				-inMemory -port "$port" -disableTelemetry
		) </dev/null >>"$logfile" 2>&1 &
		pid=$!
		echo "$pid" >"$pidfile"

		started=0
		await_start "$pid" answers "$port" || started=$?
		if ((started == 0)); then
			echo "http://127.0.0.1:$port" >"$endpointfile"
			echo "GOODFAITH_DYNAMODB_ENDPOINT=http://127.0.0.1:$port"
			return 0
		fi
		if ((started == 2)); then
			cmd_stop "$statedir"
			die "DynamoDB Local did not answer on port $port within ${START_TIMEOUT_SECONDS}s; see $logfile"
		fi
		rm -f "$pidfile"
		echo "dynamodb.sh: DynamoDB Local exited during start-up (port $port)" >&2
	done
	die "DynamoDB Local failed to start; see $logfile"
}

cmd_stop() {
	local statedir=$1
	stop_pidfile "$statedir/dynamodb.pid"
	rm -f "$statedir/dynamodb.endpoint"
}

main "$@"
