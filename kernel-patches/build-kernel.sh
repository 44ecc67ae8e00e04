#!/bin/sh
# Build one guest kernel: extract Debian's linux-source-6.12, apply patches,
# configure tinyconfig plus fragments, build bzImage and the named
# kselftests (static, against the patched tree's uapi headers), and leave
# in OUTDIR
#   bzImage  config  kernelrelease  build.log  compile_s  selftests/<NAME>
# OUTDIR appears only when everything succeeded (built beside it, then
# renamed).  The compiles hold /tmp/study-cpu.lock so that they never
# overlap a timing run on this machine.
#
# usage: build-kernel.sh -t TARBALL -o OUTDIR [-c FRAGMENT]... [-p PATCH]...
#                        [-s SELFTEST]...
#   SELFTEST: NAME of tools/testing/selftests/mm/NAME.c
set -eu

usage() {
	echo "usage: $0 -t TARBALL -o OUTDIR [-c FRAGMENT]... [-p PATCH]... [-s SELFTEST]..." >&2
	exit 2
}

tarball= outdir= fragments= patches= selftests=
while getopts t:o:c:p:s: opt; do
	case $opt in
	t) tarball=$OPTARG ;;
	o) outdir=$OPTARG ;;
	c) fragments="$fragments $(realpath "$OPTARG")" ;;
	p) patches="$patches $(realpath "$OPTARG")" ;;
	s) selftests="$selftests $OPTARG" ;;
	*) usage ;;
	esac
done
[ -n "$tarball" ] && [ -n "$outdir" ] || usage
[ -r "$tarball" ] || { echo "error: $tarball: kernel source tarball not readable" >&2; exit 1; }

lock=/tmp/study-cpu.lock
jobs=${STUDY_BUILD_JOBS:-2}
mkdir -p "$(dirname "$outdir")"
work=$(mktemp -d "$outdir.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

echo "build-kernel: extracting $tarball"
flock "$lock" tar -xJf "$tarball" -C "$work"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'linux-source-*')
[ -d "$src" ] || { echo "error: $tarball: no linux-source-* directory inside" >&2; exit 1; }

for p in $patches; do
	echo "build-kernel: applying $(basename "$p")"
	patch -d "$src" -p1 --batch --forward --quiet <"$p"
done

build=$work/build
mkdir "$build"
make -s -C "$src" O="$build" tinyconfig >/dev/null
# shellcheck disable=SC2086 # fragments is a list of paths without spaces
"$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" $fragments >/dev/null
make -s -C "$src" O="$build" olddefconfig

# A fragment line that olddefconfig dropped (an unmet dependency), or an
# option it turned on that a fragment turns off, would silently give a
# different guest: refuse it.
for f in $fragments; do
	grep '^CONFIG_' "$f" | while read -r line; do
		grep -qx "$line" "$build/.config" ||
			{ echo "error: $f: '$line' did not survive olddefconfig" >&2; exit 1; }
	done
	sed -n 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1/p' "$f" | while read -r name; do
		if grep -q "^$name=" "$build/.config"; then
			echo "error: $f: $name is set after olddefconfig" >&2
			exit 1
		fi
	done
done

# The selftests, against the uapi headers of the patched tree (as the
# kselftest build does), static: the guest has no libc.  A warning fails
# the build, as for the kernel.
mkdir "$work/selftests"
if [ -n "$selftests" ]; then
	make -s -C "$src" O="$build" headers >/dev/null
fi
for t in $selftests; do
	c=$src/tools/testing/selftests/mm/$t.c
	[ -r "$c" ] || { echo "error: $c: no such selftest in the patched tree" >&2; exit 1; }
	echo "build-kernel: selftest $t"
	if ! flock "$lock" gcc -static -Wall -O2 -isystem "$build/usr/include" \
		-o "$work/selftests/$t" "$c" >"$work/selftest.log" 2>&1 ||
		[ -s "$work/selftest.log" ]; then
		cat "$work/selftest.log" >&2
		echo "error: selftest $t did not build cleanly" >&2
		exit 1
	fi
done

echo "build-kernel: compiling with -j$jobs (holding $lock)"
# compile_s: the compile's own seconds, once it holds the lock.
# shellcheck disable=SC2016 # expanded by the inner shell
if ! flock "$lock" sh -c 't0=$(date +%s); make -C "$1" O="$2" -j"$3" bzImage; rc=$?
		echo $(($(date +%s) - t0)) >"$4"; exit $rc' \
		sh "$src" "$build" "$jobs" "$work/compile_s" >"$work/build.log" 2>&1; then
	tail -30 "$work/build.log" >&2
	echo "error: kernel build failed; log above" >&2
	exit 1
fi
if grep -n 'warning:' "$work/build.log" >&2; then
	echo "error: the kernel build printed warnings (above)" >&2
	exit 1
fi

result=$work/result
mkdir "$result"
cp "$build/arch/x86/boot/bzImage" "$result/bzImage"
cp "$build/.config" "$result/config"
make -s -C "$src" O="$build" kernelrelease >"$result/kernelrelease"
cp "$work/build.log" "$work/compile_s" "$result/"
mv "$work/selftests" "$result/selftests"
rm -rf "$outdir"
mv "$result" "$outdir"
echo "build-kernel: $outdir/bzImage ($(cat "$outdir/kernelrelease")), compiled in $(cat "$outdir/compile_s") s"
