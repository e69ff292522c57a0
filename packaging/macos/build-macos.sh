#!/usr/bin/env bash
# Build snowml-desktop.app and a .dmg on macOS. Needs the project installed (pip install -e '.[packaging]') and
# Apple's command line tools (iconutil, hdiutil). Sign and notarize afterwards with your own Developer ID:
#   codesign --deep --force --options runtime --sign "Developer ID Application: ..." out/dist/snowml-desktop.app
#   xcrun notarytool submit out/snowml-desktop-<version>.dmg --keychain-profile ... --wait
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/packaging/out"
version=$(python -c "from importlib.metadata import version; print(version('snowml-desktop'))")

python "$root/packaging/make_icons.py" "$out/icons"
iconutil --convert icns --output "$out/icons/snowml-desktop.icns" "$out/icons/snowml-desktop.iconset"
pyinstaller --noconfirm --log-level WARN --distpath "$out/dist" --workpath "$out/build" "$root/packaging/snowml.spec"

app="$out/dist/snowml-desktop.app"
/usr/libexec/PlistBuddy -c "Print :CFBundleShortVersionString" "$app/Contents/Info.plist" | grep -qx "$version"
test "$("$app/Contents/MacOS/snowml" --version)" = "snowml $version"
# The same end-to-end check CI runs on Linux: imports, Snowpark local training, load -> train -> score in the GUI.
QT_QPA_PLATFORM=offscreen "$app/Contents/MacOS/snowml-desktop" --self-test

staging=$(mktemp -d)
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
hdiutil create -volname "snowml-desktop $version" -srcfolder "$staging" -ov -format UDZO \
  "$out/snowml-desktop-$version.dmg"
rm -rf "$staging"
echo "$out/snowml-desktop-$version.dmg"
