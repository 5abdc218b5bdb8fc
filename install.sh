#!/bin/sh
# Installs the socket2web binary for this machine from a release.
#
#   curl -fsSL https://github.com/socket2web/socket2web/releases/latest/download/install.sh | sh
#   sh install.sh [--base-url URL] [--prefix PREFIX]
#
# It downloads SHA256SUMS and this platform's binary (named as `make release` names them in
# dist/), checks the binary against SHA256SUMS, and only then installs it as PREFIX/bin/socket2web.
# A checksum mismatch installs nothing. POSIX sh; needs curl or wget, and sha256sum or shasum.
set -eu

DEFAULT_BASE_URL="https://github.com/socket2web/socket2web/releases/latest/download"
SUPPORTED="linux-x64 linux-arm64 darwin-arm64 windows-x64"

base_url="$DEFAULT_BASE_URL"
prefix="/usr/local"

say() { printf 'socket2web install: %s\n' "$*"; }
fail() {
  printf 'socket2web install: error: %s\n' "$*" >&2
  exit 1
}
usage() {
  cat <<EOF
Usage: install.sh [--base-url URL] [--prefix PREFIX]

  --base-url URL   where the release files are (default: $DEFAULT_BASE_URL)
  --prefix PREFIX  installs PREFIX/bin/socket2web (default: /usr/local)
  -h, --help       shows this help
EOF
}
usage_error() {
  printf 'socket2web install: %s\n' "$*" >&2
  usage >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
  --base-url)
    [ $# -ge 2 ] || usage_error "--base-url needs a URL"
    base_url="$2"
    shift 2
    ;;
  --base-url=*)
    base_url="${1#*=}"
    shift
    ;;
  --prefix)
    [ $# -ge 2 ] || usage_error "--prefix needs a directory"
    prefix="$2"
    shift 2
    ;;
  --prefix=*)
    prefix="${1#*=}"
    shift
    ;;
  -h | --help)
    usage
    exit 0
    ;;
  *) usage_error "unknown option: $1" ;;
  esac
done
[ -n "$base_url" ] || usage_error "--base-url is empty"
[ -n "$prefix" ] || usage_error "--prefix is empty"
base_url="${base_url%/}"

# The platform as release files name it: OS-ARCH.
kernel="$(uname -s)"
machine="$(uname -m)"
case "$kernel" in
Linux) os="linux" ;;
Darwin) os="darwin" ;;
MINGW* | MSYS* | CYGWIN*) os="windows" ;;
*) os="" ;;
esac
case "$machine" in
x86_64 | amd64) arch="x64" ;;
aarch64 | arm64) arch="arm64" ;;
*) arch="" ;;
esac
platform="$os-$arch"
case " $SUPPORTED " in
*" $platform "*) ;;
*)
  fail "no release binary for this platform ($kernel $machine); releases exist for: $SUPPORTED." \
    "Elsewhere, run from source with Bun: bun run src/main.ts"
  ;;
esac
file="socket2web-$platform"
installed_name="socket2web"
if [ "$os" = "windows" ]; then
  file="$file.exe"
  installed_name="socket2web.exe"
fi

if command -v curl >/dev/null 2>&1; then
  download() { curl -fsSL --proto '=http,https' -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  download() { wget -q -O "$2" "$1"; }
else
  fail "needs curl or wget to download the release"
fi
if command -v sha256sum >/dev/null 2>&1; then
  sha256_of() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256_of() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
else
  fail "needs sha256sum or shasum to check the download"
fi

workdir="$(mktemp -d 2>/dev/null || mktemp -d -t socket2web)"
trap 'rm -rf "$workdir"' EXIT
trap 'exit 130' INT TERM

say "downloading $base_url/SHA256SUMS"
download "$base_url/SHA256SUMS" "$workdir/SHA256SUMS" ||
  fail "could not download $base_url/SHA256SUMS"
expected="$(awk -v name="$file" '$2 == name || $2 == "*" name { print $1; exit }' "$workdir/SHA256SUMS")"
[ -n "$expected" ] || fail "$base_url/SHA256SUMS has no line for $file"

say "downloading $base_url/$file"
download "$base_url/$file" "$workdir/$file" || fail "could not download $base_url/$file"
actual="$(sha256_of "$workdir/$file")"
if [ "$actual" != "$expected" ]; then
  fail "checksum mismatch for $file: SHA256SUMS says $expected, the download is $actual." \
    "Nothing was installed."
fi
say "checksum ok: $actual"

bindir="$prefix/bin"
target="$bindir/$installed_name"
mkdir -p "$bindir" || fail "cannot create $bindir (try another --prefix, or run as root)"
# Copy beside the target, then rename: a running socket2web keeps its old file intact.
cp "$workdir/$file" "$bindir/.$installed_name.new" || fail "cannot write to $bindir"
chmod 0755 "$bindir/.$installed_name.new"
mv -f "$bindir/.$installed_name.new" "$target" || fail "cannot replace $target"

version=""
if version="$("$target" --version 2>/dev/null)"; then
  say "installed socket2web $version ($platform) as $target"
else
  say "installed socket2web ($platform) as $target"
fi
case ":$PATH:" in
*":$bindir:"*) ;;
*) say "note: $bindir is not on your PATH" ;;
esac
