#!/bin/sh
# Generate the build system.  Generated files are never committed.
set -eu
cd "$(dirname "$0")"
mkdir -p build-aux m4
autoreconf -fi
# automake does not copy its TAP driver on its own.
for d in /usr/share/automake-*; do
	if [ -f "$d/tap-driver.sh" ]; then
		cp -f "$d/tap-driver.sh" build-aux/tap-driver.sh
		break
	fi
done
