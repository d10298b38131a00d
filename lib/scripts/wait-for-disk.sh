#!/bin/sh
# wait-for-disk.sh: an emulator's init container on a shared base disk.
#
# The base image is seeded once, by a Job, onto a claim every replica mounts read-only. The
# seeder links the image into place only after verifying it, so its presence means it is complete;
# this waits for it (bounded), checks it is a sound qcow2 when qemu-img is there, and never writes.
#
# Configuration (environment):
#   WAIT_TARGET           the base image path                 (default /images/base/win98.qcow2)
#   WAIT_TIMEOUT_SECONDS  how long to wait before failing     (default 1800)
#   WAIT_INTERVAL_SECONDS seconds between looks               (default 5)

set -u

TARGET=${WAIT_TARGET:-/images/base/win98.qcow2}
TIMEOUT=${WAIT_TIMEOUT_SECONDS:-1800}
INTERVAL=${WAIT_INTERVAL_SECONDS:-5}

log() { printf 'wait-for-disk: %s\n' "$*"; }

start=$(date +%s)
announced=0
while [ ! -f "$TARGET" ]; do
  waited=$(( $(date +%s) - start ))
  if [ "$waited" -ge "$TIMEOUT" ]; then
    log "FAILED: the base image $TARGET did not appear within ${TIMEOUT}s. Tried: waiting for the seeding Job to place it. What to do: check the seeding Job's pod (kubectl logs job/<seeding job>) and that the base claim is ReadWriteMany and bound"
    exit 1
  fi
  if [ "$announced" -eq 0 ]; then
    log "waiting up to ${TIMEOUT}s for the seeding Job to place $TARGET"
    announced=1
  fi
  sleep "$INTERVAL"
done

if command -v qemu-img >/dev/null 2>&1; then
  # -U: the base is open read-only by running emulators; sharing the read lock is what they do too.
  if ! output=$(qemu-img check -U -q -f qcow2 "$TARGET" 2>&1); then
    log "FAILED: the base image $TARGET is not a sound qcow2 image ($(printf '%s' "$output" | tr '\n' ' ' | cut -c1-200)). What to do: delete it from the base claim and let the seeding Job run again"
    exit 1
  fi
fi
log "base image ready: $TARGET"
exit 0
