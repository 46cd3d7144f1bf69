#!/usr/bin/env bash
# Prints the directory of an arm64 test bed for the transform's compiled build: Debian's arm64 python of
# the Lambda runtime's version (VERSION, e.g. 3.13) unpacked with what it links against (root/), and the
# transform's arm64 wheels plus the test tools (site/), made under .venv/tools/arm64-py<VERSION> from
# Debian and PyPI packages. Needs qemu-user-static, gcc-aarch64-linux-gnu and Debian's archive keys,
# installed with apt-get when missing (as root, or through sudo without a password: a CI runner), so it
# runs on Debian and Ubuntu. Exits 3, saying why on stderr, when the test bed cannot be had here.
set -euo pipefail
cd "$(dirname "$0")/.."
v=${1:?usage: arm64-sysroot.sh VERSION}
# The Debian release whose default python3 is VERSION.
case "$v" in
  3.13) suite=trixie ;;
  *) echo "no Debian release ships python$v as its python3" >&2; exit 3 ;;
esac
# Debian's archive keys: Debian has them; on Ubuntu they are the debian-archive-keyring package. The
# file is .gpg up to Debian 12 and .pgp from 13.
keyring() {
  local file
  for file in /usr/share/keyrings/debian-archive-keyring.pgp /usr/share/keyrings/debian-archive-keyring.gpg; do
    [ -f "$file" ] && { echo "$file"; return; }
  done
  return 0
}
if ! command -v qemu-aarch64-static >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null \
  || [ -z "$(keyring)" ]; then
  # As root, or through sudo where it needs no password (a CI runner).
  if [ "$(id -u)" = 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "qemu-user-static, gcc-aarch64-linux-gnu and debian-archive-keyring are needed (apt-get install, as root)" >&2
    exit 3
  fi
  if ! command -v apt-get >/dev/null; then
    echo "qemu-user-static, gcc-aarch64-linux-gnu and debian-archive-keyring are needed (no apt-get here)" >&2
    exit 3
  fi
  ${as_root[@]+"${as_root[@]}"} apt-get update -qq >&2
  ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static \
    gcc-aarch64-linux-gnu debian-archive-keyring >&2
fi
bed="$PWD/.venv/tools/arm64-py$v"
if [ ! -f "$bed/.installed" ] || [ constraints.txt -nt "$bed/.installed" ]; then
  rm -rf "$bed"
  mkdir -p "$bed/apt/lists/partial" "$bed/apt/cache/archives/partial" "$bed/debs" "$bed/root"
  echo "deb [arch=arm64 signed-by=$(keyring)] http://deb.debian.org/debian $suite main" > "$bed/apt/sources.list"
  apt=(-o "Dir::Etc::SourceList=$bed/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$bed/apt/lists" -o "Dir::Cache=$bed/apt/cache" -o Dir::State::status=/dev/null
    -o APT::Architecture=arm64 -o APT::Architectures=arm64 -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  apt-get "${apt[@]}" update -qq >&2
  # The interpreter, its headers, and the shared libraries it and its stdlib modules link against.
  (cd "$bed/debs" && apt-get "${apt[@]}" download -qq "python$v-minimal" "libpython$v-minimal" \
    "libpython$v-stdlib" "libpython$v-dev" "python$v" libc6 libexpat1 zlib1g libffi8 libssl3t64 \
    libbz2-1.0 liblzma5 libzstd1 libmpdec4 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 \
    libreadline8t64 libgcc-s1 libcrypt1 libdb5.3t64 libgdbm6t64 libnsl2 libtirpc3t64 libb2-1 \
    libgomp1 libstdc++6 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libcom-err2 libkrb5support0 \
    libkeyutils1 media-types tzdata >&2)
  for deb in "$bed"/debs/*.deb; do dpkg-deb -x "$deb" "$bed/root"; done
  ln -s usr/lib "$bed/root/lib"
  ln -s usr/bin "$bed/root/bin"
  # The Lambda's requirements as the package names them (stream_processor.package_lambda).
  requirements=$("${PY:-.venv/bin/python}" -c \
    'from stream_processor.package_lambda import LAMBDA_REQUIREMENTS; print(*LAMBDA_REQUIREMENTS)')
  read -ra lambda_requirements <<< "$requirements"
  "${PY:-.venv/bin/python}" -m pip install --quiet --target "$bed/site" --platform manylinux2014_aarch64 \
    --implementation cp --python-version "$v" --only-binary=:all: -c constraints.txt \
    "${lambda_requirements[@]}" pytest pytest-timeout hypothesis 2>&1 \
    | grep -v "is ignored" >&2 || true
  qemu-aarch64-static -L "$bed/root" "$bed/root/usr/bin/python$v" -c 'import sys' >&2
  touch "$bed/.installed"
fi
echo "$bed"
