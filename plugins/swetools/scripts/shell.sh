# swetools execute_bash helper: one tool call, one Exec. The prelude sets
#   S      state folder of the shell session
#   ROOT   repository root (the first working folder)
#   ACT    start | poll | input | interrupt | eof | probe1 | probe2
#   IDLE   ms without new output after which the call returns (0: no limit)
#   WALL   ms after which the call returns in any case
#   LIMIT  bytes of output to show at most (head and tail halves)
#   CMD64  the command, base64 (start; empty: already in $S/cmd.next)
#   IN64   text for the command's stdin, base64 (input)
#   RUNNER the runner's file name in $S
# and the function write_runner. It prints key=value lines for the plugin.
# Files of $S: mode (persistent | reaped), cwd, vars, envnames, funcs (the
# session), and per job: cmd, out, lock (held while the job runs), start,
# pgid, exit (written when the job ends), shown (bytes of out reported),
# reported (the end was reported), in (stdin FIFO), keeper, intr.
# It sticks to bash builtins where it can: a fork costs milliseconds in a
# loaded sandbox.
umask 077
[ -d "$S" ] || mkdir -p "$S" || exit 90
exec 8>>"$S/mutex"
flock -x -w 60 8 || {
	echo "fail=another call holds the shell session"
	exit 0
}

# getnum VAR FILE DEFAULT: VAR is the first line of FILE if it is an
# integer, else DEFAULT.
getnum() {
	local v=
	[ -f "$2" ] && IFS= read -r v <"$2"
	case $v in '' | *[!0-9-]* | ?*-*) v=$3 ;; esac
	printf -v "$1" %s "$v"
}

now_ms() { # sets NOW to a clock in milliseconds
	local t=${EPOCHREALTIME-}
	if [ -n "$t" ]; then
		t=${t/[.,]/}
		NOW=$((10#$t / 1000))
	else
		NOW=$((SECONDS * 1000))
	fi
}

epoch() { # sets EPOCH to the time in seconds
	EPOCH=${EPOCHSECONDS-}
	[ -n "$EPOCH" ] || EPOCH=$(date +%s)
}

job_state() { # sets STATE to idle | running | done | killed
	if [ -e "$S/exit" ]; then
		if [ -e "$S/reported" ]; then STATE=idle; else STATE=done; fi
	elif [ ! -e "$S/start" ]; then
		STATE=idle
	elif flock -n -s "$S/lock" true 2>/dev/null; then
		if [ -e "$S/reported" ]; then STATE=idle; else STATE=killed; fi
	else
		STATE=running
	fi
}

# wait_job IDLE WALL: wait until the job ends (0) or a limit passes (1).
wait_job() {
	local start last=-1 size since step
	[ -e "$S/exit" ] && return 0
	now_ms
	start=$NOW since=$NOW
	while :; do
		step=$(($2 - (NOW - start)))
		if (($1 > 0)) && (($1 - (NOW - since) < step)); then step=$(($1 - (NOW - since))); fi
		((step > 500)) && step=500
		((step < 10)) && step=10
		flock -s -w "$((step / 1000)).$((step % 1000 / 100))$((step % 100 / 10))$((step % 10))" "$S/lock" true 2>/dev/null &&
			return 0
		[ -e "$S/exit" ] && return 0
		now_ms
		((NOW - start >= $2)) && return 1
		if (($1 > 0)); then
			size=$(stat -c %s "$S/out" 2>/dev/null)
			if [ "$size" != "$last" ]; then
				last=$size
				since=$NOW
			fi
			((NOW - since >= $1)) && return 1
		fi
	done
}

# signal_job SIG: signal the job's process group.
signal_job() {
	local pg i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ -e "$S/pgid" ] && break
		sleep 0.2
	done
	getnum pg "$S/pgid" 0
	((pg > 1)) && kill -s "$1" -- "-$pg" 2>/dev/null
}

kill_pid() { # kill_pid FILE: kill the process whose pid FILE holds
	local p
	getnum p "$1" 0
	((p > 1)) && kill "$p" 2>/dev/null
}

# stop_job: interrupt the job, then kill it if it does not end.
stop_job() {
	signal_job INT
	wait_job 0 2000 && return 0
	signal_job KILL
	wait_job 0 5000
}

# clip FILE FROM: the bytes of FILE after offset FROM, as total= and
# head=/tail= (base64) lines; more than LIMIT bytes keep the first and the
# last LIMIT/2. It sets CLIPPED to the size of FILE.
clip() {
	local size new h t
	size=$(stat -c %s "$1" 2>/dev/null || echo 0)
	(($2 > size)) && set -- "$1" 0
	new=$((size - $2))
	echo "total=$new"
	if ((new == 0)); then
		:
	elif (($2 == 0 && new <= LIMIT)); then
		echo "head=$(base64 -w0 <"$1")"
	elif ((new <= LIMIT)); then
		echo "head=$(tail -c +$(($2 + 1)) "$1" | head -c "$new" | base64 -w0)"
	else
		h=$((LIMIT / 2))
		t=$((LIMIT - h))
		echo "head=$(tail -c +$(($2 + 1)) "$1" | head -c "$h" | base64 -w0)"
		echo "tail=$(tail -c +$((size - t + 1)) "$1" | head -c "$t" | base64 -w0)"
	fi
	CLIPPED=$size
}

report() {
	local cwd=$ROOT shown started
	job_state
	echo "state=$STATE"
	if [ "$STATE" = done ]; then
		getnum rc "$S/exit" -1
		echo "exit=$rc"
	fi
	[ -f "$S/cwd" ] && IFS= read -r cwd <"$S/cwd"
	echo "cwd=$(base64 -w0 <<<"$cwd")"
	if [ "$STATE" != idle ]; then
		epoch
		getnum started "$S/start" "$EPOCH"
		echo "elapsed=$((EPOCH - started))"
		getnum shown "$S/shown" 0
		clip "$S/out" "$shown"
		echo "$CLIPPED" >"$S/shown"
		case $STATE in done | killed) : >"$S/reported" ;; esac
	fi
}

mode=
[ -f "$S/mode" ] && IFS= read -r mode <"$S/mode"
case $ACT in
probe1)
	# Start a process that outlives this Exec if the sandbox lets it: it
	# holds a lock that probe2 then finds taken or free.
	rm -f "$S/probe.lock" "$S/mode"
	exec 7>"$S/probe.lock"
	flock -x 7
	# setsid -f forks only after env has dropped SWELEGO_EXEC
	# (sdk.ExecMarkerEnv): the sleeper never carries it, so a sandbox that
	# keeps processes between Execs cannot mistake it for this Exec's.
	rm -f "$S/probe.pid"
	env -u SWELEGO_EXEC setsid -f sh -c 'echo $$ >"$1"; exec sleep 60' sh "$S/probe.pid" 8>&- </dev/null >/dev/null 2>&1
	exec 7>&-
	echo "probe=started"
	exit 0
	;;
probe2)
	# A sleeper still asleep means processes outlive an Exec. Otherwise
	# it is gone or still dying: a killed process may hold its lock a
	# moment after it left the process list's view, so wait a little.
	getnum p "$S/probe.pid" 0
	st=
	((p > 1)) && read -r _ _ st _ <"/proc/$p/stat" 2>/dev/null
	if [ "$st" != S ] && flock -x -w 2 "$S/probe.lock" true 2>/dev/null; then
		mode=reaped
	else
		mode=persistent
		kill_pid "$S/probe.pid"
	fi
	echo "$mode" >"$S/mode"
	echo "mode=$mode"
	exit 0
	;;
esac
case $mode in
persistent | reaped) echo "mode=$mode" ;;
*)
	echo "state=needprobe"
	exit 0
	;;
esac

case $ACT in
start)
	job_state
	if [ "$STATE" = running ]; then
		epoch
		getnum started "$S/start" "$EPOCH"
		echo "refused=busy"
		echo "state=running"
		echo "elapsed=$((EPOCH - started))"
		exit 0
	fi
	case $STATE in
	done)
		getnum rc "$S/exit" -1
		echo "prev_exit=$rc"
		;;
	killed) echo "prev_exit=-1" ;;
	esac
	rm -f "$S/exit" "$S/reported" "$S/pgid" "$S/in" "$S/lock" "$S/intr" "$S/keeper" "$S/out"
	: >"$S/out"
	echo 0 >"$S/shown"
	if [ -n "$CMD64" ]; then
		base64 -d <<<"$CMD64" >"$S/cmd" || {
			echo "fail=cannot write the command"
			exit 0
		}
	else
		mv -f "$S/cmd.next" "$S/cmd" || {
			echo "fail=cannot find the uploaded command"
			exit 0
		}
	fi
	if [ ! -f "$S/$RUNNER" ]; then
		write_runner || {
			echo "fail=cannot write the runner"
			exit 0
		}
	fi
	[ "$mode" = persistent ] && mkfifo "$S/in"
	epoch
	echo "$EPOCH" >"$S/start"
	# The job inherits fd 9, which holds the job's lock until it ends.
	# setsid -f, not &: a job started with & would ignore SIGINT (C-c).
	# Without SWELEGO_EXEC (sdk.ExecMarkerEnv) the sandbox does not kill
	# the job when this Exec ends, where it keeps processes at all.
	exec 9>"$S/lock"
	flock -x 9
	env -u SWELEGO_EXEC setsid -f bash -c '. "$1/'"$RUNNER"'"; eval "$__sw_cmd" 9>&-' bash "$S" "$ROOT" "$mode" \
		8>&- </dev/null >>"$S/out" 2>&1
	exec 9>&-
	if ! wait_job "$IDLE" "$WALL" && [ "$mode" = reaped ]; then
		# Nothing outlives this Exec here: stop the job now, so that its end
		# is reported as it is.
		stop_job
		echo "stopped=1"
	fi
	report
	;;
poll)
	job_state
	[ "$STATE" = running ] && wait_job "$IDLE" "$WALL"
	report
	;;
input)
	job_state
	if [ "$STATE" = running ]; then
		base64 -d <<<"$IN64" >"$S/input"
		if timeout 10 bash -c 'cat -- "$1" >"$2"' bash "$S/input" "$S/in" 2>/dev/null; then
			echo "input=sent"
		else
			echo "input=failed"
		fi
		wait_job "$IDLE" "$WALL"
	fi
	report
	;;
interrupt)
	job_state
	if [ "$STATE" = running ]; then
		if [ -e "$S/intr" ]; then
			signal_job KILL
			echo "signal=KILL"
		else
			: >"$S/intr"
			signal_job INT
			echo "signal=INT"
		fi
		wait_job 0 5000
	fi
	report
	;;
eof)
	job_state
	if [ "$STATE" = running ]; then
		kill_pid "$S/keeper"
		echo "input=eof"
		wait_job "$IDLE" "$WALL"
	fi
	report
	;;
*)
	echo "fail=unknown action $ACT"
	;;
esac
exit 0
