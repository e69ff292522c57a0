#!/usr/bin/env bash
# CI step for issue "installers": build the .deb from this checkout, install it into a temporary root (dpkg -x, no
# root needed for that), then run the installed `snowml --version` and `snowml-desktop --self-test` offscreen (it
# also builds Snowflake setup's procedures zip from the installed tree and runs it in a separate process);
# install only the package's declared Depends (plus the X server), check that every bundled library resolves and
# that what comes from the system is covered by Depends, and run the self-test again in a real X window (Xvfb).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
python -m pip install -q -e '.[packaging]' 2>&1 | grep -v "^WARNING: Location" || true
version=$(python -c "from importlib.metadata import version; print(version('snowml-desktop'))")

start=$(date +%s)
deb=$(packaging/build-linux.sh | tail -n 1)
echo "built $deb in $(( $(date +%s) - start )) s"

target=$(mktemp -d)
trap 'rm -rf "$target"' EXIT
dpkg -x "$deb" "$target"
test "$("$target/usr/bin/snowml" --version)" = "snowml $version"
test "$("$target/usr/bin/snowml-desktop" --version)" = "snowml-desktop $version"
echo "installed snowml --version and snowml-desktop --version: ok ($version)"

echo "== installed self-test, offscreen"
QT_QPA_PLATFORM=offscreen "$target/usr/bin/snowml-desktop" --self-test

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  mapfile -t depends < <(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/[[:space:]]//g; s/(.*//' | grep -v '^$')
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends xvfb xauth "${depends[@]}" >/dev/null
fi
echo "== shared libraries of the installed tree (ldd; system ones must come from Depends)"
python packaging/linux/check_libs.py "$target" "$deb"

echo "== installed self-test, in a real X window (Xvfb, xcb platform)"
if command -v xvfb-run >/dev/null; then
  xvfb-run -a -s "-screen 0 1280x800x24" env QT_QPA_PLATFORM=xcb "$target/usr/bin/snowml-desktop" --self-test
else
  echo "xvfb-run is not available and this user cannot install it: the real-window self-test was NOT run" >&2
  exit 1
fi
echo "Linux package checks passed in $(( $(date +%s) - start )) s"
