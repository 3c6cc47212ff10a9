# Shared by the service scripts (dynamodb.sh, minio.sh, elasticmq.sh): messages,
# npm installs, process bookkeeping, start-up on a free loopback port and the
# install/start/stop command line. Sourced, not run. Each script defines
# PROCESS_PATTERN (a string its server's command line contains),
# START_TIMEOUT_SECONDS, STOP_TIMEOUT_SECONDS, cmd_install, cmd_start and
# cmd_stop; the Java servers also define `launch` and `answers` for
# start_on_free_port.

SCRIPT_NAME=$(basename "$0")

die() {
	echo "$SCRIPT_NAME: $*" >&2
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

# npm_package_version DIR prints the version in DIR/package.json, or nothing.
npm_package_version() {
	local manifest="$1/package.json"
	[[ -f $manifest ]] || return 0
	node -e 'process.stdout.write(String(require(process.argv[1]).version || ""))' "$manifest" 2>/dev/null || true
}

# npm_install CACHE_DIR SPEC installs the npm package SPEC under
# CACHE_DIR/node_modules for the files it ships (the servers' jars): no
# install scripts run. npm's own output goes to stderr so that stdout stays
# clean for callers.
npm_install() {
	local cache_dir=$1 spec=$2
	command -v npm >/dev/null || die "npm is required to install $spec"
	mkdir -p "$cache_dir"
	[[ -f $cache_dir/package.json ]] || echo '{"private": true}' >"$cache_dir/package.json"
	echo "$SCRIPT_NAME: installing $spec into $cache_dir" >&2
	npm install --prefix "$cache_dir" --no-audit --no-fund --save-exact --ignore-scripts "$spec" >&2
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

# our_pid PIDFILE prints the pid recorded there if that process is running
# and is ours (its command line contains PROCESS_PATTERN): a recycled pid
# must never be killed.
our_pid() {
	local pidfile=$1 pid
	[[ -f $pidfile ]] || return 1
	pid=$(<"$pidfile")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	if [[ -r /proc/$pid/cmdline ]]; then
		tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$PROCESS_PATTERN" || return 1
	fi
	echo "$pid"
}

# stop_pidfile PIDFILE stops the process recorded there, politely then
# firmly after STOP_TIMEOUT_SECONDS; harmless when it is not running.
stop_pidfile() {
	local pidfile=$1 pid
	if pid=$(our_pid "$pidfile"); then
		kill -TERM "$pid" 2>/dev/null || true
		local deadline=$((SECONDS + STOP_TIMEOUT_SECONDS))
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
}

# await_start PID PROBE ARGS... waits for a just-started server: it returns 0
# once `PROBE ARGS...` succeeds, 1 if the process exits first, and 2 if
# START_TIMEOUT_SECONDS pass with the process still running.
await_start() {
	local pid=$1 probe=$2
	shift 2
	local deadline=$((SECONDS + START_TIMEOUT_SECONDS))
	while ((SECONDS < deadline)); do
		kill -0 "$pid" 2>/dev/null || return 1
		"$probe" "$@" && return 0
		sleep 0.2
	done
	return 2
}

# start_on_free_port STATEDIR NAME FILE ENVVAR starts a server on a free
# loopback port and prints ENVVAR=http://127.0.0.1:PORT once `answers PORT`
# succeeds. The sourcing script's `launch PORT STATEDIR` runs the server in
# the foreground (exec); it runs in STATEDIR, detached from our stdin and
# stdout so that `$(… start …)` returns. STATEDIR receives FILE.pid, FILE.log
# and FILE.endpoint; called again while that instance still answers, it
# prints the endpoint again. Another process may take the port between our
# probe and the server's bind, so three ports are tried before giving up.
start_on_free_port() {
	local statedir=$1 name=$2 file=$3 envvar=$4
	command -v node >/dev/null || die "node is required to pick a free port"
	mkdir -p "$statedir"
	statedir=$(cd "$statedir" && pwd)
	local pidfile="$statedir/$file.pid" logfile="$statedir/$file.log"
	local endpointfile="$statedir/$file.endpoint"

	local pid
	if pid=$(our_pid "$pidfile") && [[ -f $endpointfile ]]; then
		local endpoint
		endpoint=$(<"$endpointfile")
		if answers "${endpoint##*:}"; then
			echo "$envvar=$endpoint"
			return 0
		fi
		stop_service "$statedir" "$file"
	fi

	local attempt port started
	for attempt in 1 2 3; do
		port=$(free_port)
		[[ $port =~ ^[0-9]+$ ]] || die "could not find a free port"
		echo "--- $(date -u +%Y-%m-%dT%H:%M:%SZ) starting $name on port $port (attempt $attempt)" >>"$logfile"
		(
			cd "$statedir"
			launch "$port" "$statedir"
		) </dev/null >>"$logfile" 2>&1 &
		pid=$!
		echo "$pid" >"$pidfile"

		started=0
		await_start "$pid" answers "$port" || started=$?
		if ((started == 0)); then
			echo "http://127.0.0.1:$port" >"$endpointfile"
			echo "$envvar=http://127.0.0.1:$port"
			return 0
		fi
		if ((started == 2)); then
			stop_service "$statedir" "$file"
			die "$name did not answer on port $port within ${START_TIMEOUT_SECONDS}s; see $logfile"
		fi
		rm -f "$pidfile"
		echo "$SCRIPT_NAME: $name exited during start-up (port $port)" >&2
	done
	die "$name failed to start; see $logfile"
}

# stop_service STATEDIR FILE stops what start_on_free_port started there;
# harmless when it is not running.
stop_service() {
	stop_pidfile "$1/$2.pid"
	rm -f "$1/$2.endpoint"
}

# main dispatches `install`, `start STATEDIR` and `stop STATEDIR`.
main() {
	(($# >= 1)) || usage
	case $1 in
	install)
		(($# == 1)) || usage
		cmd_install
		;;
	start)
		(($# == 2)) || usage
		cmd_start "$2"
		;;
	stop)
		(($# == 2)) || usage
		cmd_stop "$2"
		;;
	*) usage ;;
	esac
}
