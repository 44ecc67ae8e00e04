#!/bin/sh
# Pack a guest initramfs: busybox (static), the static harness, /init, the
# study's helper scripts (study-*), the kselftests in SELFTEST_DIR (may be
# empty) and the list of experiments /init runs.
#
# usage: mkinitramfs.sh OUT.cpio HARNESS EXPERIMENTS SELFTEST_DIR
set -eu
[ $# -eq 4 ] || { echo "usage: $0 OUT.cpio HARNESS EXPERIMENTS SELFTEST_DIR" >&2; exit 2; }
out=$1 harness=$2 experiments=$3 selftests=$4
here=$(dirname "$(realpath "$0")")
busybox=$(command -v busybox) ||
	{ echo "error: busybox not found (Debian: busybox-static)" >&2; exit 1; }
for bin in "$busybox" "$harness" "$selftests"/*; do
	[ -e "$bin" ] || continue
	if readelf -l "$bin" 2>/dev/null | grep -q 'Requesting program interpreter'; then
		echo "error: $bin: not statically linked; the guest has no libc" >&2
		exit 1
	fi
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT INT TERM
mkdir -p "$stage/bin" "$stage/proc" "$stage/sys" "$stage/dev" "$stage/tmp" "$stage/selftests"
cp "$busybox" "$stage/bin/busybox"
cp "$harness" "$stage/bin/vgetrandom-harness"
cp "$here"/study-* "$stage/bin/"
cp -r "$selftests"/. "$stage/selftests/"
cp "$here/init" "$stage/init"
cp "$experiments" "$stage/experiments"
chmod 755 "$stage/init" "$stage"/bin/*
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
