# swetools job runner, sourced by the bash that runs one execute_bash
# command: bash -c '. "$1/runner-ID.sh" && eval "$__sw_cmd" 9>&-' bash DIR ROOT MODE
# It restores the session (shell variables, functions, working folder),
# makes the command's stdin a FIFO when the sandbox keeps jobs running, and
# saves the session and the exit status when the command ends. Everything it
# defines starts with __sw_ so that the agent's command rarely meets it, and
# it runs bash builtins only (forks are slow in a loaded sandbox).
__sw_dir=$1 __sw_root=$2 __sw_mode=$3
set --
echo "$$" >"$__sw_dir/pgid"

# Variables bash sets or manages itself, and the runner's own, are not saved.
__sw_skip='BASH.*|COMP_.*|COLUMNS|LINES|DIRSTACK|EPOCHREALTIME|EPOCHSECONDS|EUID|FUNCNAME|GROUPS|HISTCMD|HOSTNAME|HOSTTYPE|IFS|LINENO|MACHTYPE|OPTERR|OPTIND|OSTYPE|PIPESTATUS|PPID|PWD|RANDOM|SECONDS|SHELLOPTS|SHLVL|SRANDOM|UID|_|__sw_.*|SWELEGO_EXEC'

# The exit trap saves the session. It is a trap text, not a function, so
# that the functions saved are the agent's alone.
trap '__sw_rc=$?
trap - EXIT INT TERM
{
	pwd >"$__sw_dir/cwd"
	compgen -e >"$__sw_dir/envnames"
	__sw_names=()
	for __sw_v in ${!a*} ${!b*} ${!c*} ${!d*} ${!e*} ${!f*} ${!g*} ${!h*} ${!i*} ${!j*} ${!k*} ${!l*} ${!m*} \
		${!n*} ${!o*} ${!p*} ${!q*} ${!r*} ${!s*} ${!t*} ${!u*} ${!v*} ${!w*} ${!x*} ${!y*} ${!z*} \
		${!A*} ${!B*} ${!C*} ${!D*} ${!E*} ${!F*} ${!G*} ${!H*} ${!I*} ${!J*} ${!K*} ${!L*} ${!M*} \
		${!N*} ${!O*} ${!P*} ${!Q*} ${!R*} ${!S*} ${!T*} ${!U*} ${!V*} ${!W*} ${!X*} ${!Y*} ${!Z*} ${!_*}; do
		[[ $__sw_v =~ ^($__sw_skip)$ ]] || __sw_names+=("$__sw_v")
	done
	if ((${#__sw_names[@]})); then declare -p "${__sw_names[@]}"; fi >"$__sw_dir/vars"
	declare -f >"$__sw_dir/funcs"
	[ -n "${__sw_keeper-}" ] && kill "$__sw_keeper"
} 2>/dev/null
echo "$__sw_rc" >"$__sw_dir/exit.new" && mv -f "$__sw_dir/exit.new" "$__sw_dir/exit"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The session: variables first (minus those the sandbox sets for this Exec
# alone, such as the marker it finds the Exec's processes by), then
# functions, then the working folder.
__sw_had_marker=${SWELEGO_EXEC+x} __sw_marker=${SWELEGO_EXEC-}
if [ -f "$__sw_dir/envnames" ]; then
	declare -A __sw_keep=()
	while IFS= read -r __sw_v; do __sw_keep[$__sw_v]=1; done <"$__sw_dir/envnames"
	while IFS= read -r __sw_v; do
		[ -n "${__sw_keep[$__sw_v]-}" ] || unset "$__sw_v" 2>/dev/null
	done < <(compgen -e)
	unset __sw_keep __sw_v
fi
[ -f "$__sw_dir/vars" ] && . "$__sw_dir/vars" 2>/dev/null
[ -f "$__sw_dir/funcs" ] && . "$__sw_dir/funcs" 2>/dev/null
if [ -n "$__sw_had_marker" ]; then export SWELEGO_EXEC="$__sw_marker"; else unset SWELEGO_EXEC; fi
unset __sw_had_marker __sw_marker
export PYTHONUNBUFFERED="${PYTHONUNBUFFERED-1}"
__sw_cwd=$__sw_root
[ -f "$__sw_dir/cwd" ] && IFS= read -r __sw_cwd <"$__sw_dir/cwd"
if ! cd -- "$__sw_cwd" 2>/dev/null; then
	echo "[The working directory $__sw_cwd no longer exists; now in $__sw_root.]"
	cd -- "$__sw_root" 2>/dev/null || cd /
fi
unset __sw_cwd

# Standard input: a FIFO the agent writes to with is_input=true. A keeper
# holds its write end open so that reads wait for input instead of seeing
# the end of the file; C-d kills the keeper.
if [ "$__sw_mode" = persistent ] && [ -p "$__sw_dir/in" ]; then
	sleep infinity 9>&- >"$__sw_dir/in" &
	__sw_keeper=$!
	echo "$__sw_keeper" >"$__sw_dir/keeper"
	exec 0<"$__sw_dir/in"
fi

IFS= read -r -d '' __sw_cmd <"$__sw_dir/cmd"
:
