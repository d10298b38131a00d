#!/bin/sh
# wait-for-disk.sh: an emulator's init container on a shared base disk.
#
# The base image is seeded once, by a Job, onto a claim every replica mounts read-only. The
# seeder links the image into place only after verifying it, so its presence means it is complete;
# this waits for it (bounded), then applies the image policy of seed-disk.sh (`seed-disk.sh
# inspect`: self-contained qcow2, header before qemu-img, qemu-img check when it is there), and
# never writes.
#
# Configuration (environment):
#   WAIT_TARGET           the base image path                 (default /images/base/win98.qcow2)
#   WAIT_TIMEOUT_SECONDS  how long to wait before failing     (default 1800)
#   WAIT_INTERVAL_SECONDS seconds between looks               (default 5)
#   SEED_MAX_VIRTUAL_SIZE, SEED_MIN_VIRTUAL_SIZE  the policy's limits, read by seed-disk.sh

set -u

TARGET=${WAIT_TARGET:-/images/base/win98.qcow2}
TIMEOUT=${WAIT_TIMEOUT_SECONDS:-1800}
INTERVAL=${WAIT_INTERVAL_SECONDS:-5}
SEED_SCRIPT=$(dirname "$0")/seed-disk.sh

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

# The image policy lives once, in seed-disk.sh (mounted beside this script): its inspect mode
# reads the header before qemu-img opens anything, and qemu-img then opens only the file.
verify=header
if command -v qemu-img >/dev/null 2>&1; then verify=qemu-img; fi
if ! output=$(SEED_VERIFY=$verify /bin/sh "$SEED_SCRIPT" inspect "$TARGET" 2>/dev/null); then
  reason=$(printf '%s\n' "$output" | sed -n 's/^seed-disk: FAILED: //p' | tail -n 1)
  log "FAILED: the base image is refused: ${reason:-$(printf '%s' "$output" | tr '\n' ' ' | cut -c1-300)}. What to do: delete it from the base claim and let the seeding Job run again (it verifies what it seeds)"
  exit 1
fi
log "base image ready: $TARGET"
exit 0
