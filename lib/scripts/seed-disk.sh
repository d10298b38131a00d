#!/bin/sh
# seed-disk.sh: make sure the emulator's disk image exists before the emulator starts.
#
# Runs as the DiskSeeder init container (POSIX sh: busybox sh, dash). The synthesized manifest
# carries this file verbatim in a ConfigMap; DiskSeeder configures it through SEED_* variables.
#
# Rules, in order of importance:
#   1. An existing disk is the player's saved game: it is never modified, replaced or re-owned.
#   2. The target path either does not exist or holds a complete, verified image: every source
#      is copied to a temporary name on the same volume, verified, flushed, then linked into place
#      with link(2), which is atomic and never overwrites an existing file.
#   3. Every failure exits non-zero with one line naming each source tried, why it failed, and
#      what to do.
#
# Configuration (environment):
#   SEED_TARGET         disk image path                       (default /images/win98.qcow2)
#   SEED_SOURCES        ordered, space-separated sources to try when the disk is missing:
#                       builtin, snapshot                     (default: builtin)
#   SEED_BUILTIN_PATH   the image built into the container    (default /opt/builtin-images/win98.qcow2.builtin)
#   SEED_SNAPSHOT_REF   registry/repository:tag of the snapshot image (the snapshot source)
#   SEED_SNAPSHOT_FILE  the snapshot's qcow2 as a local file  (default /snapshot.qcow2)
#   SEED_SHA256         expected sha256 of the seeded image; empty: not checked
#   SEED_VERIFY         qemu-img (default): `qemu-img check` must pass and must be installed;
#                       header: only the qcow2 magic is checked (when no qemu-img exists)
#   SEED_HINT           advice printed with a failure        (default: generic)

set -u

TARGET=${SEED_TARGET:-/images/win98.qcow2}
SOURCES=${SEED_SOURCES:-builtin}
BUILTIN_PATH=${SEED_BUILTIN_PATH:-/opt/builtin-images/win98.qcow2.builtin}
SNAPSHOT_REF=${SEED_SNAPSHOT_REF:-}
SNAPSHOT_FILE=${SEED_SNAPSHOT_FILE:-/snapshot.qcow2}
EXPECTED_SHA256=${SEED_SHA256:-}
VERIFY=${SEED_VERIFY:-qemu-img}
HINT=${SEED_HINT:-check the sources configured for the DiskSeeder}

TARGET_DIR=$(dirname "$TARGET")
TARGET_NAME=$(basename "$TARGET")
# Temporary files live beside the target (same filesystem, so the final link is atomic) under a
# name the emulator never opens; a leftover from an interrupted run is recognised by this prefix.
STAGING_PREFIX=".$TARGET_NAME.seeding"
STAGING="$TARGET_DIR/$STAGING_PREFIX.$$"

log() { printf 'seed-disk: %s\n' "$*"; }

# Failure reasons, one per source tried, joined into the final error line.
TRIED="existing: $TARGET absent"
record_failure() { TRIED="$TRIED; $1: $2"; }

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup_staging() { rm -f "$STAGING"; }
trap cleanup_staging EXIT
trap 'exit 130' INT TERM

remove_leftovers() {
  for leftover in "$TARGET_DIR/$STAGING_PREFIX".*; do
    [ -e "$leftover" ] || continue
    log "removing leftover from an interrupted earlier run: $leftover"
    rm -f "$leftover"
  done
}

# Prints the reason and returns 1 when the staged file is not a sound image.
verify_staged() {
  case "$VERIFY" in
    qemu-img)
      if ! command -v qemu-img >/dev/null 2>&1; then
        echo "qemu-img is not installed in the seeder image (run the seeder in the emulator image, or set verify to header)"
        return 1
      fi
      if ! check_output=$(qemu-img check -q -f qcow2 "$STAGING" 2>&1); then
        echo "not a sound qcow2 image (qemu-img check: $(printf '%s' "$check_output" | tr '\n' ' ' | cut -c1-200))"
        return 1
      fi
      ;;
    header)
      magic=$(head -c 4 "$STAGING" | od -An -tx1 | tr -d ' \n')
      if [ "$magic" != "514649fb" ]; then
        echo "not a qcow2 image (magic bytes '$magic', expected 514649fb)"
        return 1
      fi
      ;;
    *)
      echo "unknown SEED_VERIFY '$VERIFY' (allowed: qemu-img, header)"
      return 1
      ;;
  esac
  if [ -n "$EXPECTED_SHA256" ]; then
    actual=$(sha256sum "$STAGING" | cut -d' ' -f1)
    if [ "$actual" != "$EXPECTED_SHA256" ]; then
      echo "sha256 $actual does not match the expected $EXPECTED_SHA256"
      return 1
    fi
  fi
  return 0
}

# Copies $2 (a local file) for source $1 to the staging name, verifies it and links it into place.
# Returns 0 when the target exists afterwards.
seed_from_file() {
  source_name=$1
  source_path=$2
  if [ ! -f "$source_path" ]; then
    record_failure "$source_name" "$source_path not found"
    return 1
  fi
  log "copying $source_name image $source_path to $STAGING"
  if ! cp "$source_path" "$STAGING" 2>/dev/null; then
    rm -f "$STAGING"
    record_failure "$source_name" "copy of $source_path failed (volume full or not writable?)"
    return 1
  fi
  if ! reason=$(verify_staged); then
    rm -f "$STAGING"
    record_failure "$source_name" "$reason"
    return 1
  fi
  sync
  # link(2) fails rather than overwrite: if another seeder placed a disk meanwhile, theirs stays.
  if ! ln "$STAGING" "$TARGET" 2>/dev/null && [ ! -e "$TARGET" ]; then
    rm -f "$STAGING"
    record_failure "$source_name" "could not link $STAGING to $TARGET"
    return 1
  fi
  rm -f "$STAGING"
  sync
  log "seeded $TARGET from $source_name ($source_path)"
  return 0
}

try_source() {
  case "$1" in
    builtin) seed_from_file builtin "$BUILTIN_PATH" ;;
    snapshot) seed_from_file "snapshot $SNAPSHOT_REF" "$SNAPSHOT_FILE" ;;
    *) record_failure "$1" "unknown source (allowed: builtin, snapshot)"; return 1 ;;
  esac
}

main() {
  if [ -e "$TARGET" ]; then
    # Rule 1: whatever the sources say, an existing disk is kept exactly as it is.
    log "disk image already present, keeping it: $TARGET"
    exit 0
  fi
  if [ ! -d "$TARGET_DIR" ] || [ ! -w "$TARGET_DIR" ]; then
    log "FAILED: $TARGET_DIR is not a writable directory; mount the disk volume there read-write"
    exit 1
  fi
  remove_leftovers
  for source in $SOURCES; do
    if try_source "$source"; then
      exit 0
    fi
  done
  log "FAILED: no source produced $TARGET. Tried: $TRIED. What to do: $HINT"
  exit 1
}

main "$@"
