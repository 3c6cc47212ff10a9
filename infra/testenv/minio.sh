#!/usr/bin/env bash
# Installs and runs MinIO for the tests of the S3 blob adapter.
#
#   minio.sh install          build the pinned MinIO server (once; it is cached)
#   minio.sh start STATEDIR   start it on a free loopback port and print
#                               GOODFAITH_S3_ENDPOINT=http://127.0.0.1:N
#                               GOODFAITH_S3_ACCESS_KEY=…
#                               GOODFAITH_S3_SECRET_KEY=…
#                               GOODFAITH_S3_KMS_KEY_ID=…
#   minio.sh stop STATEDIR    stop it (harmless when it is not running)
#
# MinIO is the S3 implementation we test against because it implements the
# parts of S3 the adapter relies on: Object Lock in compliance mode, versioning,
# conditional writes (If-None-Match: *), SSE-KMS and SigV4 presigned URLs.
#
# SSE-KMS needs a KMS. MinIO's built-in static key (MINIO_KMS_SECRET_KEY) is
# enough for tests: it is one named 256-bit key, and its name is the key id the
# tests pass to the adapter. The key and the root credentials are generated
# once per STATEDIR and kept there (0600), because MinIO encrypts its own
# configuration and the objects under them: a restart on the same data with
# new secrets would leave that data unreadable.
#
# Everything listens on 127.0.0.1 only, and stdout carries nothing but the four
# lines above so that callers can `eval "$(minio.sh start DIR)"`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
readonly PROCESS_PATTERN="minio server"

# Pinned MinIO version (what `go install github.com/minio/minio@latest`
# resolved to when this was written); bump deliberately.
readonly MINIO_MODULE="github.com/minio/minio"
readonly MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"
readonly CACHE_DIR="${GOODFAITH_CACHE:-$HOME/.cache/goodfaith}"
readonly BIN_DIR="$CACHE_DIR/bin"
readonly BIN="$BIN_DIR/minio"
readonly KMS_KEY_NAME="goodfaith-test-key"
readonly START_TIMEOUT_SECONDS=60
readonly STOP_TIMEOUT_SECONDS=15
readonly PORT_ATTEMPTS=5

# built_version prints the module version the binary was built from, or
# nothing if there is no binary or go cannot read it.
built_version() {
	[[ -x $BIN ]] || return 0
	command -v go >/dev/null || return 0
	go version -m "$BIN" 2>/dev/null | awk -v mod="$MINIO_MODULE" '$1 == "mod" && $2 == mod { print $3 }'
}

cmd_install() {
	command -v go >/dev/null || die "go is required to build MinIO"
	mkdir -p "$BIN_DIR"
	# Two `make test` runs may install at once; the build takes minutes, so
	# the second waits for the first instead of building again.
	exec 9>"$BIN_DIR/.minio.install.lock"
	if command -v flock >/dev/null; then
		flock 9
	fi
	local have
	have=$(built_version)
	if [[ $have == "$MINIO_VERSION" ]]; then
		echo "minio.sh: MinIO $MINIO_VERSION already built at $BIN" >&2
		return 0
	fi
	if [[ -x $BIN && -n $have ]]; then
		echo "minio.sh: $BIN is $have, not the pinned $MINIO_VERSION; rebuilding" >&2
	fi
	# Build into a scratch GOBIN and move the result into place, so that an
	# interrupted build never leaves a half-written binary at $BIN.
	local tmp
	tmp=$(mktemp -d "$BIN_DIR/.minio-build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "minio.sh: building $MINIO_MODULE@$MINIO_VERSION (this takes a few minutes)" >&2
	# go's output goes to stderr so that stdout stays clean for callers.
	GOBIN="$tmp" go install "$MINIO_MODULE@$MINIO_VERSION" >&2
	[[ -x $tmp/minio ]] || die "go install finished but $tmp/minio is missing"
	mv -f "$tmp/minio" "$BIN"
	rm -rf "$tmp"
	trap - EXIT
	[[ $(built_version) == "$MINIO_VERSION" ]] || die "built $BIN but it does not report $MINIO_VERSION"
}

# random_port prints a port in the dynamic range that nothing answers on
# right now. Bash cannot bind a socket to ask the kernel for one, so we probe;
# start retries with new ports if MinIO still loses a race for it.
random_port() {
	local port tries
	for tries in $(seq 1 50); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

# ready PORT succeeds when MinIO on 127.0.0.1:PORT reports itself ready.
ready() {
	local port=$1
	curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$port/minio/health/ready" 2>/dev/null
}

# random_hex N prints N random bytes as hex.
random_hex() {
	od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

# load_secrets sets ACCESS_KEY, SECRET_KEY and KMS_SECRET from STATEDIR's
# secrets file, creating it on first use.
load_secrets() {
	local file=$1
	if [[ ! -f $file ]]; then
		(
			umask 077
			{
				echo "ACCESS_KEY=gf$(random_hex 8)"
				echo "SECRET_KEY=$(random_hex 20)"
				echo "KMS_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
			} >"$file.tmp"
			mv "$file.tmp" "$file"
		)
	fi
	ACCESS_KEY=$(sed -n 's/^ACCESS_KEY=//p' "$file")
	SECRET_KEY=$(sed -n 's/^SECRET_KEY=//p' "$file")
	KMS_SECRET=$(sed -n 's/^KMS_SECRET=//p' "$file")
	[[ -n $ACCESS_KEY && -n $SECRET_KEY && -n $KMS_SECRET ]] || die "$file is incomplete; remove it together with the MinIO data next to it"
}

print_env() {
	local port=$1
	echo "GOODFAITH_S3_ENDPOINT=http://127.0.0.1:$port"
	echo "GOODFAITH_S3_ACCESS_KEY=$ACCESS_KEY"
	echo "GOODFAITH_S3_SECRET_KEY=$SECRET_KEY"
	echo "GOODFAITH_S3_KMS_KEY_ID=$KMS_KEY_NAME"
}

cmd_start() {
	local statedir=$1
	[[ -x $BIN ]] || die "MinIO is not installed; run: $0 install"
	command -v curl >/dev/null || die "curl is required to wait for MinIO"
	mkdir -p "$statedir"
	chmod 700 "$statedir"
	statedir=$(cd "$statedir" && pwd)
	local pidfile="$statedir/minio.pid" logfile="$statedir/minio.log"
	local portfile="$statedir/minio.port" datadir="$statedir/minio-data"
	mkdir -p "$datadir"
	load_secrets "$statedir/minio.secrets"

	# Already running from this state directory: report it again.
	local pid
	if pid=$(our_pid "$pidfile") && [[ -f $portfile ]]; then
		local port
		port=$(<"$portfile")
		if ready "$port"; then
			print_env "$port"
			return 0
		fi
		cmd_stop "$statedir"
	fi

	local attempt port console started
	for attempt in $(seq 1 "$PORT_ATTEMPTS"); do
		port=$(random_port) || die "could not find a free port"
		console=$(random_port) || die "could not find a free port"
		[[ $port != "$console" ]] || continue
		echo "--- $(date -u +%Y-%m-%dT%H:%M:%SZ) starting MinIO on 127.0.0.1:$port, console 127.0.0.1:$console (attempt $attempt)" >>"$logfile"
		# stdin/stdout/stderr are detached so that `$(… start …)` returns.
		# MINIO_UPDATE=off: tests must not depend on, or reach, the internet.
		(
			export MINIO_ROOT_USER="$ACCESS_KEY"
			export MINIO_ROOT_PASSWORD="$SECRET_KEY"
			export MINIO_KMS_SECRET_KEY="$KMS_KEY_NAME:$KMS_SECRET"
			export MINIO_UPDATE=off
			exec "$BIN" server --quiet --anonymous \
				--address "127.0.0.1:$port" \
				--console-address "127.0.0.1:$console" \
				"$datadir"
		) </dev/null >>"$logfile" 2>&1 &
		pid=$!
		echo "$pid" >"$pidfile"

		started=0
		await_start "$pid" ready "$port" || started=$?
		if ((started == 0)); then
			echo "$port" >"$portfile"
			print_env "$port"
			return 0
		fi
		if ((started == 2)); then
			cmd_stop "$statedir"
			die "MinIO was not ready on port $port within ${START_TIMEOUT_SECONDS}s; see $logfile"
		fi
		rm -f "$pidfile"
		# A lost port race is worth another try; anything else is not.
		if ! tail -n 20 "$logfile" | grep -qi 'address already in use'; then
			tail -n 20 "$logfile" >&2
			die "MinIO exited during start-up; see $logfile"
		fi
		echo "minio.sh: MinIO could not bind port $port or $console; retrying" >&2
	done
	die "MinIO failed to start; see $logfile"
}

cmd_stop() {
	local statedir=$1
	stop_pidfile "$statedir/minio.pid"
	rm -f "$statedir/minio.port"
}

main "$@"
