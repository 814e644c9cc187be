#!/bin/sh
# Installs the execbox executable for this machine after checking it against
# the release's SHA256SUMS. A file that does not match, or that SHA256SUMS
# does not list, is refused and nothing is installed.
#
#   install.sh --base-url https://example.com/execbox/v0.1.0   download both
#   install.sh --from ./dist                                    local files (offline)
# Options: --prefix DIR (default /usr/local; installs DIR/bin/execbox),
#          --target OS-ARCH (default this machine: linux-x64, darwin-arm64, …)
set -eu

prog=install.sh
die() { echo "$prog: $*" >&2; exit 1; }

base_url= from= prefix=/usr/local target=
while [ $# -gt 0 ]; do
  case "$1" in
    --base-url) base_url=${2:?}; shift 2 ;;
    --from) from=${2:?}; shift 2 ;;
    --prefix) prefix=${2:?}; shift 2 ;;
    --target) target=${2:?}; shift 2 ;;
    *) die "unknown argument '$1' (expected --base-url URL or --from DIR, --prefix DIR, --target OS-ARCH)" ;;
  esac
done
[ -n "$base_url$from" ] || die "say where the release is: --base-url URL or --from DIR"

if [ -z "$target" ]; then
  case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) die "no prebuilt executable for $(uname -s)" ;; esac
  case "$(uname -m)" in x86_64 | amd64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) die "no prebuilt executable for $(uname -m)" ;; esac
  target=$os-$arch
fi
asset=execbox-$target

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

fetch() { # fetch NAME: into $work/NAME
  if [ -n "$from" ]; then
    cp "$from/$1" "$work/$1" 2>/dev/null || die "cannot read $from/$1"
  elif command -v curl >/dev/null 2>&1; then
    curl -fsSL --proto '=https,http' -o "$work/$1" "${base_url%/}/$1" || die "cannot download ${base_url%/}/$1"
  else
    wget -q -O "$work/$1" "${base_url%/}/$1" || die "cannot download ${base_url%/}/$1"
  fi
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1
}

fetch SHA256SUMS
fetch "$asset"
# Lines are "<hex>  <name>"; exactly one must name the asset.
expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1 }' "$work/SHA256SUMS")
[ -n "$expected" ] || die "SHA256SUMS lists no $asset"
[ "$(printf '%s\n' "$expected" | awk 'END { print NR }')" = 1 ] || die "SHA256SUMS lists $asset more than once"
actual=$(sha256 "$work/$asset")
[ "$actual" = "$expected" ] || die "checksum mismatch for $asset: expected $expected, got $actual"

mkdir -p "$prefix/bin"
# Copied beside the target, then renamed: a running execbox is never overwritten in place.
cp "$work/$asset" "$prefix/bin/.execbox.new"
chmod 0755 "$prefix/bin/.execbox.new"
mv -f "$prefix/bin/.execbox.new" "$prefix/bin/execbox"
echo "installed $asset (sha256 $actual) as $prefix/bin/execbox"
