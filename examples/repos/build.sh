#!/usr/bin/env bash
# build.sh: rebuild the bundled example repositories and their tasks.
#
# Writes textkit.bundle (Python, pytest), semver.bundle (Go) and
# urlkit.bundle (JavaScript, node --test) — git bundles holding each
# repository's whole history — and ../tasks/bundled.jsonl, one
# SWE-bench task per bug-fix commit: base_commit is the fix's parent, patch the
# fix's code change, test_patch its test change. Commits have fixed authors and
# dates, so the ids are the same on every machine. FAIL_TO_PASS / PASS_TO_PASS
# come from running the tests (python3 -m pytest, go test) before and after.
#
# urlkit's history has bug fixes but gives no tasks here: the JavaScript
# plugin, examples/plugins/javascript, makes synthetic tasks of it.
# Needs git, python3, pytest (Debian's /usr/bin/pytest-3, or set
# TEST_PYTEST) and go. The outputs are committed; run this
# only to change the examples.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tasks="$here/../tasks/bundled.jsonl"
: > "$work/tasks.jsonl"
n=0

export GIT_AUTHOR_NAME="swelego examples" GIT_AUTHOR_EMAIL=examples@swelego.invalid
export GIT_COMMITTER_NAME="swelego examples" GIT_COMMITTER_EMAIL=examples@swelego.invalid
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

# commit MSG: commit everything with the next fixed date.
commit() {
	n=$((n + 1))
	local date="2026-01-$(printf %02d "$n")T12:00:00Z"
	git add -A
	GIT_AUTHOR_DATE="$date" GIT_COMMITTER_DATE="$date" git -c commit.gpgsign=false commit -q -m "$1"
}

# task ID LANG TESTGLOB...: record the fix at HEAD as a task; the problem
# statement is read from stdin.
task() {
	local id=$1 lang=$2
	shift 2
	local fix base
	fix=$(git rev-parse HEAD)
	base=$(git rev-parse HEAD^)
	git diff "$base" "$fix" -- . "${@/#/:!}" > "$work/patch"
	git diff "$base" "$fix" -- "$@" > "$work/test_patch"
	cat > "$work/statement"
	python3 "$here/task.py" "$id" "$lang" "$(basename "$PWD")" "$base" "$fix" "$(git rev-list --max-parents=0 HEAD)" \
		"$work/patch" "$work/test_patch" "$work/statement" >> "$work/tasks.jsonl"
}

source "$here/textkit.sh"
source "$here/semver.sh"
source "$here/urlkit.sh"

mv "$work/tasks.jsonl" "$tasks"
echo "wrote $(wc -l < "$tasks") tasks to $tasks"
