#!/usr/bin/env bash
# Build the PyInstaller bundle and the .deb from a checkout. Needs the project installed with its `packaging` extra
# (pip install -e '.[packaging]') and Debian's dpkg-deb. Output: packaging/out/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/packaging/out"
version=$(python -c "from importlib.metadata import version; print(version('snowml-desktop'))")
arch=$(dpkg --print-architecture)
rm -rf "$out/dist" "$out/deb" "$out"/*.deb
mkdir -p "$out/icons"

python "$root/packaging/make_icons.py" "$out/icons"
pyinstaller --noconfirm --log-level WARN --distpath "$out/dist" --workpath "$out/build" "$root/packaging/snowml.spec"

# Debian tree: the bundle in /opt, launchers in /usr/bin, desktop entry and icon.
deb="$out/deb"
mkdir -p "$deb/DEBIAN" "$deb/opt" "$deb/usr/bin" "$deb/usr/share/applications" \
  "$deb/usr/share/icons/hicolor/scalable/apps" "$deb/usr/share/icons/hicolor/256x256/apps"
cp -a "$out/dist/snowml-desktop" "$deb/opt/snowml-desktop"
ln -s ../../opt/snowml-desktop/snowml-desktop "$deb/usr/bin/snowml-desktop"
ln -s ../../opt/snowml-desktop/snowml "$deb/usr/bin/snowml"
install -m 644 "$root/packaging/linux/snowml-desktop.desktop" "$deb/usr/share/applications/"
install -m 644 "$out/icons/snowml-desktop.svg" "$deb/usr/share/icons/hicolor/scalable/apps/"
install -m 644 "$out/icons/snowml-desktop-256.png" "$deb/usr/share/icons/hicolor/256x256/apps/snowml-desktop.png"

depends=$(grep -v '^#' "$root/packaging/linux/depends.txt" | grep -v '^$' | paste -sd, - | sed 's/,/, /g')
size_kb=$(du -sk "$deb" | cut -f1)
cat > "$deb/DEBIAN/control" <<CONTROL
Package: snowml-desktop
Version: $version
Architecture: $arch
Maintainer: snowml-desktop developers <dev@snowml.invalid>
Installed-Size: $size_kb
Depends: $depends
Section: science
Priority: optional
Homepage: https://snowml.invalid
Description: Point-and-click machine learning on Snowflake data
 Load data, analyze it, train and evaluate classifiers and score tables, with the
 heavy work in a Snowflake warehouse or in an embedded local DuckDB warehouse.
CONTROL
# xz level 3: a few MB larger than the default level 6, several times faster to build.
dpkg-deb --build --root-owner-group -Zxz -z3 "$deb" "$out/snowml-desktop_${version}_${arch}.deb" >/dev/null
echo "bundle: $(du -sh "$out/dist/snowml-desktop" | cut -f1)  deb: $(du -h "$out"/*.deb | cut -f1)" >&2
echo "$out/snowml-desktop_${version}_${arch}.deb"
