#!/bin/sh
# Installs the Debian packages the test suite runs for real: busybox 1.35 (static, so it also runs
# inside a scratch image) and dash (the seeding
# script's shells), qemu-utils (real qcow2 images), skopeo, umoci and docker-registry (OCI images
# and a local registry), apache2-utils (htpasswd: bcrypt users for the registry's auth), shellcheck.
# Needs root (or sudo) and Debian's package archive.
set -eu
PACKAGES="busybox-static dash qemu-utils qemu-block-extra skopeo umoci docker-registry apache2-utils shellcheck util-linux"

missing=""
for package in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $package"
done
if [ -z "$missing" ]; then
  echo "test dependencies already installed"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing:$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is intended
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
