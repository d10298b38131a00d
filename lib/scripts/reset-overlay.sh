#!/bin/sh
# reset-overlay.sh: a one-shot reset of this instance's overlay, keyed by a token.
#
# The entrypoint's SNAPSHOT_RESET=true drops the per-instance overlay at every start for as long as
# it is set. This resets once per request instead: when RESET_TOKEN differs from the token recorded
# for this instance, the overlay is moved aside (to <overlay>.before-reset, replacing an older one)
# and the token recorded; later starts with the same token keep the overlay. The base image is
# never touched.
#
# Configuration (environment):
#   RESET_TOKEN   the requested reset; empty: nothing to do
#   POD_NAME      <statefulset>-<ordinal>, from the downward API
#   OVERLAY_DIRS  directories holding win98_instance_<ordinal>*.qcow2 overlays, one per line
#                 (default: /images and $SNAPSHOT_DIR). Taken literally: spaces and glob
#                 characters in a directory name are part of the name.
#   STATE_DIR     where the recorded tokens live              (default /images)
#
# A directory that does not exist holds no overlay. One that exists but cannot be listed, or an
# overlay that cannot be moved, fails the reset without recording the token, so that the next
# start tries again.

set -u

TOKEN=${RESET_TOKEN:-}
STATE_DIR=${STATE_DIR:-/images}
NL='
'
OVERLAY_DIRS=${OVERLAY_DIRS:-/images$NL${SNAPSHOT_DIR:-/images/snapshots}}

log() { printf 'reset-overlay: %s\n' "$*"; }

[ -n "$TOKEN" ] || exit 0
ordinal=${POD_NAME##*-}
case "$ordinal" in
  ''|*[!0-9]*)
    log "FAILED: cannot tell this instance's ordinal from POD_NAME '${POD_NAME:-}'. What to do: run it in a StatefulSet pod with POD_NAME from the downward API"
    exit 1
    ;;
esac

state="$STATE_DIR/.reset-token.$ordinal"
if [ -f "$state" ] && [ "$(cat "$state")" = "$TOKEN" ]; then
  log "reset '$TOKEN' already done for instance $ordinal; keeping its overlay"
  exit 0
fi

# Split OVERLAY_DIRS at line breaks only, and expand no pattern in the names themselves.
set -f
old_ifs=$IFS
IFS=$NL
for dir in $OVERLAY_DIRS; do
  IFS=$old_ifs
  set +f
  [ -n "$dir" ] || continue
  if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then
    continue
  fi
  if [ ! -d "$dir" ] || ! ls -a "$dir" >/dev/null 2>&1; then
    log "FAILED: cannot list the overlay directory '$dir'; reset '$TOKEN' not recorded, so the next start tries again. What to do: check that it is a directory this container can read"
    exit 1
  fi
  # "$dir" is quoted, so a '*' or '?' in its name matches only itself.
  for overlay in "$dir/win98_instance_$ordinal.qcow2" "$dir/win98_instance_${ordinal}_"*.qcow2; do
    [ -f "$overlay" ] || continue
    if ! mv -f "$overlay" "$overlay.before-reset"; then
      log "FAILED: could not move '$overlay' aside; reset '$TOKEN' not recorded. What to do: check that the disk volume is writable"
      exit 1
    fi
    log "reset '$TOKEN': moved '$overlay' to '$overlay.before-reset'"
  done
  set -f
done
IFS=$old_ifs
set +f

# Recorded last, atomically: an interrupted reset is simply done again at the next start.
if ! { printf '%s' "$TOKEN" > "$state.tmp" && mv -f "$state.tmp" "$state"; }; then
  log "FAILED: could not record reset '$TOKEN' in $state. What to do: check that the disk volume is writable"
  exit 1
fi
log "reset '$TOKEN' done for instance $ordinal"
exit 0
