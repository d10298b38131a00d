#!/bin/sh
# install-seed-tools.sh: places a static busybox for the snapshot image's init container.
#
# The snapshot image is built FROM scratch: it holds /snapshot.qcow2 and no shell. This runs in a
# busybox image first and copies its (static) busybox, with a symlink per applet, into a small
# emptyDir that the snapshot container mounts, so that seed-disk.sh can run there with busybox's
# cp, ln, mv... found through PATH=<dir>/bin.
#
# Configuration (environment):
#   SEED_TOOLS_DIR   the shared emptyDir               (default /seed-tools)
#   BUSYBOX          the busybox binary to copy          (default /bin/busybox)

set -u

DIR=${SEED_TOOLS_DIR:-/seed-tools}
BUSYBOX=${BUSYBOX:-/bin/busybox}

fail() {
  printf 'install-seed-tools: FAILED: %s\n' "$*"
  exit 1
}

[ -x "$BUSYBOX" ] || fail "no busybox at $BUSYBOX. What to do: set toolsImage to an image with a static /bin/busybox (busybox:1.35)"
mkdir -p "$DIR/bin" || fail "cannot create $DIR/bin. What to do: check the seed-tools emptyDir mount"
if ! { cp "$BUSYBOX" "$DIR/busybox.tmp" && mv -f "$DIR/busybox.tmp" "$DIR/busybox"; }; then
  fail "cannot copy $BUSYBOX to $DIR. What to do: check the seed-tools emptyDir mount"
fi
chmod 0555 "$DIR/busybox"
# A dynamically linked busybox would not run in the scratch image: test it with an empty
# environment and no loader search path, as close to scratch as a shell here gets.
env -i "$DIR/busybox" true || fail "$DIR/busybox does not run on its own. What to do: use a toolsImage whose /bin/busybox is statically linked"
# Every applet link in one process (a loop of ln costs a fork each: about a second per pod start).
# The links point where this busybox runs from, the path the snapshot container mounts it at.
"$DIR/busybox" --install -s "$DIR/bin" 2>/dev/null
if [ "$(readlink "$DIR/bin/sh" 2>/dev/null)" != "$DIR/busybox" ]; then
  rm -f "$DIR/bin/"*
fi
# Whatever --install did not make (a busybox built without it, a link an earlier attempt lost).
for applet in $("$DIR/busybox" --list); do
  [ -L "$DIR/bin/$applet" ] || ln -sf "$DIR/busybox" "$DIR/bin/$applet" || fail "cannot link applet $applet in $DIR/bin"
done
printf 'install-seed-tools: busybox and %s applets in %s/bin\n' "$("$DIR/busybox" --list | wc -l | tr -d ' ')" "$DIR"
