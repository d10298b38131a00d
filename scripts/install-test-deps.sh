#!/bin/sh
# Installs the Debian packages the test suite runs for real, and says what it did:
#   busybox-static  busybox 1.35, static (it also runs inside a scratch image); it replaces the
#                   dynamically linked `busybox` package when that is installed (apt removes it)
#   dash            the seeding scripts' second shell
#   qemu-utils      qemu-img: real qcow2 images
#   qemu-block-extra QEMU's curl (http) block driver, loaded as in a real emulator image, so the
#                   tests that prove no reader reaches the network could see a request
#   skopeo, umoci, docker-registry   OCI images and a local registry
#   apache2-utils   htpasswd: bcrypt users for the registry's auth
#   (lint)          shellcheck, for the shipped scripts
#   util-linux      unshare, setpriv, mount: the pod runner
#   socat, procps   the QMP client and pgrep the emulator's preStop hook uses (test/pre-stop.run.test.ts)
# It checks, without installing it, that kubectl (v1.32, with kustomize v5.5) is at /usr/bin/kubectl:
# the GitOps tests build the synthesized folders with `kubectl kustomize`.
# Needs root (or sudo) and Debian's package archive. apt's own output is kept short (-q) but shown.
set -eu
PACKAGES="busybox-static dash qemu-utils qemu-block-extra skopeo umoci docker-registry apache2-utils shellcheck util-linux socat procps"
KUBECTL=${KUBECTL:-/usr/bin/kubectl}

check_kubectl() {
  if [ -x "$KUBECTL" ]; then
    echo "kubectl: $("$KUBECTL" version --client 2>/dev/null | tr '\n' ' ')(at $KUBECTL)"
  else
    echo "kubectl: MISSING at $KUBECTL. The GitOps tests (test/gitops.test.ts, test/package/consumer.test.ts) need it:" \
      "install kubectl v1.32 (kustomize v5.5 is built in) from https://kubernetes.io/docs/tasks/tools/ at $KUBECTL" >&2
    return 1
  fi
}

missing=""
for package in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $package"
done
if [ -z "$missing" ]; then
  echo "test dependencies: all installed ($PACKAGES)"
  check_kubectl
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "test dependencies: installing:$missing"
case " $missing " in
  *" busybox-static "*)
    if dpkg-query -W -f='${Status}' busybox 2>/dev/null | grep -q 'install ok installed'; then
      echo "test dependencies: busybox-static replaces the installed busybox package (apt removes it)"
    fi ;;
esac
$SUDO apt-get update -q
# shellcheck disable=SC2086 # word splitting of the package list is intended
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
echo "test dependencies: installed:$missing"
check_kubectl
