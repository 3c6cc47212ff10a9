# Shared by the service scripts (dynamodb.sh, minio.sh, elasticmq.sh): process bookkeeping
# and the install/start/stop command line. Sourced, not run. Each script
# defines PROCESS_PATTERN (a string its server's command line contains),
# STOP_TIMEOUT_SECONDS, usage, cmd_install, cmd_start and cmd_stop.

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
