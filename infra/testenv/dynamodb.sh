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

is_installed() {
	[[ -f $JAR && -d $LIB_DIR && "$(npm_package_version "$PKG_DIR")" == "$SIMULATOR_VERSION" ]]
}

cmd_install() {
	if is_installed; then
		echo "dynamodb.sh: DynamoDB Local already installed in $EMULATOR_DIR" >&2
		return 0
	fi
	npm_install "$CACHE_DIR" "amplify-dynamodb-simulator@$SIMULATOR_VERSION"
	is_installed || die "npm install finished but $JAR or $LIB_DIR is missing"
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

# launch PORT runs DynamoDB Local in memory (start_on_free_port).
#
# JVM options: the tests share two cores with the emulator, and the JVM's
# default optimizing compiler (C2) keeps recompiling DynamoDB Local's hot
# paths on them for minutes, taking CPU from the code under test and its
# answers. -XX:TieredStopAtLevel=1 keeps the quick first-tier compiler only,
# and the serial collector runs no GC threads beside it. Measured in
# interleaved `make lambda-bench` runs (the cold starts wait on these
# answers): 5 to 15 ms less per function; the DynamoDB-backed test packages
# took as long as before.
launch() {
	exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.library.path="$LIB_DIR" -jar "$JAR" -inMemory -port "$1" -disableTelemetry
}

cmd_start() {
	is_installed || die "DynamoDB Local is not installed; run: $0 install"
	command -v java >/dev/null || die "java (17 or later) is required to run DynamoDB Local"
	start_on_free_port "$1" "DynamoDB Local" dynamodb GOODFAITH_DYNAMODB_ENDPOINT
}

cmd_stop() {
	stop_service "$1" dynamodb
}

main "$@"
