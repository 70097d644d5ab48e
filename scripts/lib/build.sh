# Build helper shared by scripts that need a built tree (bash; source it).
#
#   jg_build BUILD_DIR LOG_DIR [CONFIGURE_ARGS...]
#
# Runs autogen.sh when configure is missing or older than configure.ac,
# configure when BUILD_DIR has no Makefile (or an older one), then make.
# The same steps and prefix as scripts/test, so both share _build/default.
# On failure prints the end of the failing log and returns non-zero.

jg_build() {
	local build=$1 log=$2 src
	shift 2
	src=$(pwd)
	mkdir -p "$build" "$log" || return 1
	build=$(cd "$build" && pwd)
	if [ ! -x configure ] || [ configure.ac -nt configure ]; then
		./autogen.sh >"$log/autogen.log" 2>&1 ||
			{ tail -30 "$log/autogen.log"; return 1; }
	fi
	if [ ! -f "$build/Makefile" ] || [ configure -nt "$build/Makefile" ]; then
		(cd "$build" && "$src/configure" --prefix="$build/inst" \
			--sysconfdir="$build/inst/etc" "$@") \
			>"$log/configure.log" 2>&1 ||
			{ tail -30 "$log/configure.log"; return 1; }
	fi
	make -C "$build" -j"$(nproc)" >"$log/make.log" 2>&1 ||
		{ grep -E 'error|Error' "$log/make.log" | head -40; return 1; }
}
