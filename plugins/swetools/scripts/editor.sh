# swetools str_replace_editor helper. The prelude sets
#   ACT    inspect | push | pop | remove
#   ROOT   repository root;  P  the path the agent gave (inspect)
#   E      folder of the undo history;  KEY  the history of one file
#   T      the resolved path;  KIND  file | missing (push)
#   LIST   1 to list a folder (inspect);  LIMIT  bytes of listing to show
# and it prints key=value lines for the plugin. The history of a file is
# $E/KEY/N.data (its content before edit N) or $E/KEY/N.absent (it did not
# exist before edit N).
umask 077
b64() { base64 -w0; }

# last: the number and kind of the newest history entry of KEY ("3 data").
last() {
	ls -1 "$E/$KEY" 2>/dev/null | sed -n 's/^\([0-9][0-9]*\)\.\(data\|absent\)$/\1 \2/p' | sort -n | tail -n 1
}

case $ACT in
inspect)
	r=$(realpath -m -- "$ROOT" 2>/dev/null) || r=$ROOT
	if ! t=$(realpath -m -- "$P" 2>&1); then
		echo "bad=$(printf %s "$t" | b64)"
		exit 0
	fi
	echo "root=$(printf %s "$r" | b64)"
	echo "real=$(printf %s "$t" | b64)"
	if [ -d "$t" ]; then
		k=dir
	elif [ -f "$t" ]; then
		k=file
	elif [ -e "$t" ] || [ -L "$t" ]; then
		k=other
	else
		k=missing
	fi
	echo "kind=$k"
	KEY=$(printf %s "$t" | sha256sum | cut -c1-32)
	echo "key=$KEY"
	echo "last=$(last)"
	if [ "$k" = dir ] && [ "$LIST" = 1 ]; then
		mkdir -p "$E" && l="$E/listing"
		find "$t" -mindepth 1 -maxdepth 2 -name '.*' -prune -o \( -type d -printf '%p/\n' \) -o -printf '%p\n' 2>/dev/null |
			LC_ALL=C sort >"$l"
		size=$(stat -c %s "$l")
		echo "total=$size"
		if ((size <= LIMIT)); then
			echo "head=$(b64 <"$l")"
		else
			echo "head=$(head -c $((LIMIT / 2)) "$l" | b64)"
			echo "tail=$(tail -c $((LIMIT - LIMIT / 2)) "$l" | b64)"
		fi
		rm -f "$l"
	fi
	;;
push)
	d="$E/$KEY"
	mkdir -p "$d" || exit 0
	printf %s "$T" >"$d/path"
	n=$(last)
	n=$((${n%% *} + 1))
	if [ "$KIND" = missing ]; then
		: >"$d/$n.absent" && echo "pushed=$n"
	else
		cp -- "$T" "$d/$n.data" && echo "pushed=$n"
	fi
	# Keep the newest 50 entries.
	ls -1 "$d" | sed -n 's/^\([0-9][0-9]*\)\..*$/\1/p' | sort -n | head -n -50 |
		while read -r old; do rm -f "$d/$old.data" "$d/$old.absent"; done
	;;
pop)
	n=$(last)
	[ -n "$n" ] && rm -f "$E/$KEY/${n%% *}.${n#* }" && echo "popped=${n%% *}"
	;;
remove)
	# Undo a creation: the file goes, then its history entry.
	n=$(last)
	if [ "${n#* }" = absent ]; then
		rm -f -- "$T" && rm -f "$E/$KEY/${n%% *}.absent" && echo "popped=${n%% *}"
	fi
	;;
esac
exit 0
