#!/usr/bin/env bash
# macOS: PyInstaller .app -> signed, notarized, stapled .dmg. Runs on macOS only (the
# GitHub Actions workflow .github/workflows/installers.yml calls it); it cannot run on Linux.
#
#   packaging/macos/build_dmg.sh [VERSION]
#
# Signing and notarization happen when these are set (repository secrets in CI), and are
# skipped otherwise (an unsigned .dmg: Gatekeeper then asks the user to allow it):
#   MACOS_SIGN_IDENTITY   "Developer ID Application: Name (TEAMID)", in the keychain
#                         (CI imports it from MACOS_CERTIFICATE_P12 / MACOS_CERTIFICATE_PASSWORD)
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD   for `xcrun notarytool`
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=${1:-0.1.0}
APP=dist/oi-voice.app
DMG=dist/oi-voice-$VERSION.dmg
ENTITLEMENTS=packaging/macos/entitlements.plist

python -m PyInstaller --noconfirm --distpath dist --workpath build/pyinstaller-macos packaging/oi-voice.spec
/usr/libexec/PlistBuddy -c "Print :NSMicrophoneUsageDescription" "$APP/Contents/Info.plist"
# The wheelhouse the per-user Python environment is made from offline (oi_voice/computer/pyenv.py
# looks in Contents/Resources/wheels), in before signing: the signature seals the resources.
python -m pip download --only-binary=:all: -d "$APP/Contents/Resources/wheels" ipykernel numpy pandas matplotlib

if [[ -n "${MACOS_SIGN_IDENTITY:-}" ]]; then
  # Inside out: every Mach-O in the bundle, then the app itself, all with the hardened runtime.
  find "$APP/Contents" -type f \( -name "*.so" -o -name "*.dylib" -o -perm -u+x \) -print0 |
    while IFS= read -r -d '' f; do
      if file "$f" | grep -q "Mach-O"; then
        codesign --force --timestamp --options runtime --entitlements "$ENTITLEMENTS" \
          --sign "$MACOS_SIGN_IDENTITY" "$f"
      fi
    done
  codesign --force --timestamp --options runtime --entitlements "$ENTITLEMENTS" \
    --sign "$MACOS_SIGN_IDENTITY" "$APP"
  codesign --verify --deep --strict --verbose=2 "$APP"
fi

rm -f "$DMG"
staging=$(mktemp -d)
cp -R "$APP" "$staging/"
ln -s /Applications "$staging/Applications"
hdiutil create -volname "oi-voice" -srcfolder "$staging" -ov -format UDZO "$DMG"
rm -rf "$staging"

if [[ -n "${MACOS_SIGN_IDENTITY:-}" ]]; then
  codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$DMG"
  if [[ -n "${APPLE_ID:-}" && -n "${APPLE_TEAM_ID:-}" && -n "${APPLE_APP_PASSWORD:-}" ]]; then
    xcrun notarytool submit "$DMG" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
      --password "$APPLE_APP_PASSWORD" --wait
    xcrun stapler staple "$DMG"
    spctl --assess --type open --context context:primary-signature --verbose "$DMG"
  fi
fi
echo "$DMG"
