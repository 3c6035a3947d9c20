#!/usr/bin/env bash
# Debian packages the project needs beyond PyPI, installed only when missing.
#   runtime: fonts-noto-cjk (the CJK font embedded in publicity PDFs)
#   test:    runtime + poppler-utils (pdftoppm, pdftotext), LibreOffice Calc (headless; the test
#            client that opens the XLSX exports), Chromium + ChromeDriver (browser tests)
# Usage: scripts/system-packages.sh runtime|test
set -euo pipefail
case "${1:-runtime}" in
  runtime) packages=(fonts-noto-cjk) ;;
  test) packages=(fonts-noto-cjk poppler-utils libreoffice-calc-nogui chromium chromium-driver) ;;
  *) echo "usage: $0 runtime|test" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-packages: missing ${missing[*]} and no apt-get here: install them with your" \
       "package manager (a Noto CJK font is needed for PDFs)" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "system-packages: installing ${missing[*]}" >&2
# another apt (unattended upgrades, a second terminal) may hold the lock for a while: apt waits
# for it up to APT_LOCK_WAIT seconds (default 300), then this says what to do
wait="${APT_LOCK_WAIT:-300}"
apt_get() {
  if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$wait" "$@"; then
    echo "system-packages: apt-get $1 failed. If another apt or dpkg was running (the lock" \
         "was held for more than ${wait}s), wait for it to finish and run this again; or install" \
         "by hand: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
}
apt_get update -qq
apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
