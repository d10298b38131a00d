#!/bin/sh
# seed-disk.sh: make sure the emulator's disk image exists before the emulator starts, and never
# lose or corrupt one.
#
# Runs as the DiskSeeder init container (POSIX sh: busybox sh, dash). The synthesized manifest
# carries this file verbatim in a ConfigMap; DiskSeeder configures it through SEED_* variables.
#
# Usage:
#   seed-disk.sh               seed the disk (the init container's default)
#   seed-disk.sh stage FILE    stage a snapshot for a later seeder: runs in the snapshot image
#                              (a static busybox, no qemu-img), copies FILE to .<disk>.staged
#                              beside the disk after the image policy's header checks
#                              (check_image_policy); FILE must be a regular file with one
#                              name and no symbolic link in its path (what the registry client
#                              and check-image accept too). Never fails the pod for a bad
#                              or missing FILE: it leaves the reason in .<disk>.staged.failed,
#                              which the seeder reports, and the seeder goes on to its other sources.
#                              A file at the disk's name that cannot be a disk (rule 1, by the
#                              policy alone here) is moved aside first, so the snapshot is staged.
#                              It fails (one line) only for the volume: not writable (rule 11), the
#                              lock wait timed out, a file there it cannot move aside.
#   seed-disk.sh inspect FILE  apply the image policy (below) and SEED_VERIFY to FILE, write
#                              nothing: for wait-for-disk.sh and `cdk8s-qemu-loco check-image`.
#                              Exit 0 with one line "seed-disk: inspect: OK format=qcow2
#                              version=N virtual-size=BYTES cluster-size=BYTES file-size=BYTES
#                              leaks=N verify=MODE"; exit 1 with the "seed-disk: FAILED: FILE: why" line.
#
# Rules (each one is tested in test/scripts/):
#   1. An existing disk is the player's saved game: it is never modified, replaced or re-owned,
#      whatever the sources or options say; it is only inspected, read-only: the image policy on
#      its header, then (SEED_VERIFY=qemu-img, when installed) qemu-img check of the file alone.
#      Replacing it is an explicit action of the operator (delete the disk file; see "Re-seeding").
#      What holds no saved game is not a disk: a symbolic link (the disk is a regular file on the
#      volume), an empty file, a file the policy refuses (not a qcow2, a backing or external data
#      file, encrypted...), a qcow2 qemu-img finds corrupt or cut short. Such a file is moved aside
#      to <disk>.set-aside-<UTC time> (its record beside it as ....seed-info), never deleted; a
#      WARNING line says what was found and where it went, and the disk is seeded as if missing.
#      What the inspection cannot decide (unreadable, I/O errors) keeps the disk, and so does a
#      disk marked dirty (lazy refcounts: QEMU repairs it on open); a directory at the disk's name
#      fails the seeder and is left alone.
#   2. The target path either does not exist or holds a complete, verified image: every source
#      first produces a staging file beside the target (same volume), which is verified
#      (the image policy, qemu-img check, the end of the image's data within the file, the
#      expected sha256 when given), flushed, then linked into place with link(2): atomic, and it
#      never overwrites.
#   3. A staging file left by an interrupted run is recognised by its name and removed. The staged
#      snapshot stays until the disk is in place (the seeder hard-links it to its staging name):
#      any init container killed at any point and restarted alone by the kubelet (the ones before
#      it do not run again) converges to the disk an uninterrupted run seeds.
#   4. Several seeders on one volume: a lock directory (renamed into place: atomic, also on NFS) elects one;
#      the others wait for the disk to appear. The holder writes a heartbeat into the lock while
#      it works; a waiter breaks the lock when the heartbeat has not changed for
#      SEED_LOCK_STALE_SECONDS by the waiter's own clock (pids and clocks of other nodes mean
#      nothing), or at once when the holder was an earlier attempt of this same pod (Kubernetes
#      runs a pod's init containers one at a time). Waiting is bounded by SEED_LOCK_TIMEOUT_SECONDS.
#      Even a wrongly broken lock cannot replace a disk: the commit is link(2).
#   5. Free space is checked before copying.
#   6. Every failure exits non-zero with one line: each source tried, why it failed, what to do.
#      Copies log bytes and percent every SEED_PROGRESS_SECONDS.
#   7. What was seeded is recorded in <disk>.seed-info (source, sha256 when computed, size, time).
#      A later start whose expected sha256 or snapshot reference differs from the record prints a
#      warning and keeps the disk.
#   8. No root needed: everything it writes is on the disk volume (the pod's fsGroup gives access),
#      so it runs as a non-root user with a read-only root filesystem.
#   9. The image policy (see "The image policy" below: self-contained qcow2 only, no backing or
#      data file, no encryption, known features, virtual size within limits) is applied by every
#      reader before anything else opens the file, and nothing that inspects an image opens
#      anything but the file itself: no backing chain, no host file, no network.
#  10. Copies keep holes: a sparse source stays sparse on the volume (GNU cp --sparse=always, or
#      qemu-img convert of the bytes as raw; busybox cp alone fills holes). A source without
#      holes is copied with plain cp.
#  11. The volume is proven writable by writing 4 KiB on it first: a read-only volume, or one
#      with no free bytes or no free inodes, fails at once with one line naming the volume and
#      the problem (never a wait for a lock that nobody holds).
#  12. Links on the volume are never followed: at the disk's name (rule 1); at the record's name
#      (moved aside; the record is renamed onto the name itself, never into a linked directory);
#      at the staged or the lock's name (removed). Something else than a staged file at the
#      staged name (a directory of another user) fails that source alone: the next one runs.
#
# Re-seeding on purpose: stop the emulators, delete the disk file, its .seed-info record and the
# per-instance overlays made on it, then start again.
#
# Configuration (environment):
#   SEED_TARGET          disk image path                               (default /images/win98.qcow2)
#   SEED_SOURCES         ordered, space-separated sources to try when the disk is missing:
#                        builtin, snapshot                             (default: builtin)
#                        With kubelet-pull, a staged snapshot (.<disk>.staged, see `stage`) is
#                        the snapshot source, tried at the place of `snapshot` in this order;
#                        without `snapshot` in the order, a staged file is removed unused.
#   SEED_BUILTIN_PATH    the image built into the container (default /opt/builtin-images/win98.qcow2.builtin)
#   SEED_SNAPSHOT_REF    registry/repository:tag of the snapshot image (the snapshot source)
#   SEED_SNAPSHOT_METHOD how the snapshot source gets its file:
#                        kubelet-pull (default): the snapshot image's init container ran
#                        `seed-disk.sh stage` before; the staged file is the snapshot;
#                        registry-client: run `sh SEED_FETCH_SCRIPT SEED_SNAPSHOT_REF STAGING_FILE`,
#                        which writes the qcow2 to STAGING_FILE (its output goes to the log; its
#                        "fetch-snapshot: FAILED: ..." line becomes the reason of the source)
#   SEED_FETCH_SCRIPT    producer for registry-client                  (default: fetch-snapshot.sh beside this script)
#   SEED_SHA256          expected sha256 of the seeded image; empty: not checked (and, to keep
#                        seeding as fast as a copy, not computed)
#   SEED_VERIFY          qemu-img (default): the policy, then `qemu-img check` must pass (and be
#                        installed) and the image's data must end within the file;
#                        header: the policy only (header fields; when no qemu-img exists)
#   SEED_MAX_VIRTUAL_SIZE  largest virtual size accepted, bytes          (default 68719476736: 64 GiB)
#   SEED_MIN_VIRTUAL_SIZE  smallest virtual size accepted, bytes         (default 0: any)
#   SEED_LOCK_TIMEOUT_SECONDS  how long to wait for another seeder  (default 1800)
#   SEED_LOCK_STALE_SECONDS    heartbeat silence that marks a holder dead (default 60)
#   SEED_PROGRESS_SECONDS      seconds between progress lines      (default 10)
#   SEED_POD_NAME, SEED_POD_UID  this pod (downward API), to name the lock holder
#   SEED_HINT            advice printed with a failure                 (default: generic)

set -u
# Group-writable files: every seeder of the pod's fsGroup can clean up after another.
umask 002

TARGET=${SEED_TARGET:-/images/win98.qcow2}
SOURCES=${SEED_SOURCES:-builtin}
BUILTIN_PATH=${SEED_BUILTIN_PATH:-/opt/builtin-images/win98.qcow2.builtin}
SNAPSHOT_REF=${SEED_SNAPSHOT_REF:-}
SNAPSHOT_METHOD=${SEED_SNAPSHOT_METHOD:-kubelet-pull}
FETCH_SCRIPT=${SEED_FETCH_SCRIPT:-$(dirname "$0")/fetch-snapshot.sh}
EXPECTED_SHA256=${SEED_SHA256:-}
VERIFY=${SEED_VERIFY:-qemu-img}
MAX_VIRTUAL_SIZE=${SEED_MAX_VIRTUAL_SIZE:-68719476736}
MIN_VIRTUAL_SIZE=${SEED_MIN_VIRTUAL_SIZE:-0}
LOCK_TIMEOUT=${SEED_LOCK_TIMEOUT_SECONDS:-1800}
LOCK_STALE=${SEED_LOCK_STALE_SECONDS:-60}
PROGRESS_INTERVAL=${SEED_PROGRESS_SECONDS:-10}
POD_NAME=${SEED_POD_NAME:-$(hostname 2>/dev/null || echo unknown)}
POD_UID=${SEED_POD_UID:-}
HINT=${SEED_HINT:-check the sources configured for the DiskSeeder}

TARGET_DIR=$(dirname "$TARGET")
TARGET_NAME=$(basename "$TARGET")
LOCK="$TARGET_DIR/.$TARGET_NAME.lock"
STAGED="$TARGET_DIR/.$TARGET_NAME.staged"
STAGE_NOTE="$STAGED.failed"
RECORD="$TARGET.seed-info"
# Every temporary file starts with this prefix, so that a leftover of an interrupted run is
# recognised (and, under the lock, removed). They live beside the target: the same filesystem,
# so the final link is atomic, and the root filesystem can stay read-only.
TEMP_PREFIX="$TARGET_DIR/.$TARGET_NAME.seeding."
RANDOM_HEX=$(od -An -N4 -tx4 /dev/urandom 2>/dev/null | tr -d ' \n')
ID=$(printf '%s.%s.%s' "$POD_NAME" "$$" "${RANDOM_HEX:-0}" | tr -c 'A-Za-z0-9._-' '_')
STAGING="$TEMP_PREFIX$ID"
OWNER="pod=$POD_NAME uid=$POD_UID id=$ID"

LOCK_HELD=
TICKER_PID=
FAIL_REASON=
TRIED=

log() { printf 'seed-disk: %s\n' "$*"; }

# The one failure line (to stdout with the log, and to stderr), then exit 1.
fail() {
  printf 'seed-disk: FAILED: %s\n' "$*"
  printf 'seed-disk: FAILED: %s\n' "$*" >&2
  exit 1
}

# One line, at most 300 characters: for quoting tool output inside a failure line.
one_line() { printf '%s' "$1" | tr '\n' ' ' | cut -c1-300; }

now() { date +%s; }

record_failure() {
  if [ -n "$TRIED" ]; then TRIED="$TRIED; $1: $2"; else TRIED="$1: $2"; fi
}

is_count() {
  case $1 in '' | *[!0-9]*) return 1 ;; esac
  [ "$1" -ge 1 ]
}

# ---------------------------------------------------------------------------------------------
# Lock, heartbeat, cleanup

owner_line() { cat "$LOCK/owner" 2>/dev/null; }

holds_lock() {
  case $(owner_line) in *"id=$ID "* | *"id=$ID") return 0 ;; esac
  return 1
}

# Rewrites the owner file with a new beat: a waiter sees the content change. Content, not mtime:
# NFS clients cache attributes for up to a minute but revalidate on open. Written aside and
# renamed over the old one, so a seeder killed mid-beat never leaves an empty owner file (which
# would hide from a restarted attempt of the same pod that the lock is its own dead one's).
heartbeat() {
  [ -n "$LOCK_HELD" ] || return 0
  holds_lock || return 0
  if printf '%s beat=%s\n' "$OWNER" "$1" > "$LOCK/owner.$ID.$1" 2>/dev/null; then
    mv -f "$LOCK/owner.$ID.$1" "$LOCK/owner" 2>/dev/null || rm -f "$LOCK/owner.$ID.$1"
  fi
}

# shellcheck disable=SC2317 # called by cleanup, from the EXIT trap
release_lock() {
  [ -n "$LOCK_HELD" ] || return 0
  LOCK_HELD=
  # Only our own lock: if ours was broken and someone else holds it now, theirs stays.
  if holds_lock; then rm -rf "$LOCK"; fi
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [ -n "$TICKER_PID" ]; then kill "$TICKER_PID" 2>/dev/null; fi
  # -r: the registry-client fetch works in the directory $STAGING.fetch.
  rm -rf "$STAGING" "$STAGING".*
  release_lock
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Creates the lock with its owner file in one step: a directory prepared under a temporary name
# is renamed into place (atomic; fails when the lock exists), so no lock is ever seen without
# its owner, even when a seeder is killed while taking it.
create_lock() {
  fresh="$STAGING.lock"
  rm -rf "$fresh"
  mkdir "$fresh" 2>/dev/null || return 1
  printf '%s beat=0\n' "$OWNER" > "$fresh/owner" || { rm -rf "$fresh"; return 1; }
  if mv -T "$fresh" "$LOCK" 2>/dev/null; then
    LOCK_HELD=1
    return 0
  fi
  rm -rf "$fresh"
  return 1
}

# Takes the lock; returns 0 when held, 2 when the disk appeared meanwhile (another seeder placed
# it), 1 on timeout (FAIL_REASON says why).
acquire_lock() {
  started=$(now)
  seen=
  seen_at=$started
  last_report=0
  while :; do
    if create_lock; then return 0; fi
    if target_present && existing_is_sound; then return 2; fi
    if [ -L "$LOCK" ] || { [ -e "$LOCK" ] && [ ! -d "$LOCK" ]; }; then
      log "WARNING: $LOCK is a link or a file, not a lock a seeder made; removing it (links on the volume are never followed)"
      rm -f "$LOCK"
      continue
    fi
    # No lock, yet none could be made: the volume may have stopped taking writes (fails if so).
    if [ ! -e "$LOCK" ]; then check_volume; fi
    t=$(now)
    owner=$(owner_line)
    if [ "$owner" != "$seen" ]; then
      seen=$owner
      seen_at=$t
    fi
    stale=
    if [ -n "$POD_UID" ]; then
      case $owner in
        *"uid=$POD_UID "*) stale="held by an earlier attempt of this pod, which is no longer running" ;;
      esac
    fi
    if [ -z "$stale" ] && [ $((t - seen_at)) -ge "$LOCK_STALE" ]; then
      stale="no heartbeat for $((t - seen_at)) s"
    fi
    if [ -n "$stale" ]; then
      break_lock "$seen" "$stale"
      seen=
      seen_at=$(now)
      continue
    fi
    if [ $((t - started)) -ge "$LOCK_TIMEOUT" ]; then
      FAIL_REASON="waited $((t - started)) s for the seeding lock $LOCK, still held by a live seeder (${owner:-owner unknown}); it is still copying or verifying. What to do: let the pod restart and wait longer, or raise lockTimeoutSeconds; if no seeder runs anywhere, delete $LOCK"
      return 1
    fi
    if [ $((t - last_report)) -ge "$PROGRESS_INTERVAL" ]; then
      log "waiting for another seeder to finish (lock $LOCK held by ${owner:-an owner still writing its name}; waited $((t - started)) s of $LOCK_TIMEOUT)"
      last_report=$t
    fi
    sleep 1
  done
}

# Moves a dead holder's lock aside (rename is atomic: one waiter wins), then deletes it, unless it
# changed meanwhile (its holder is alive after all, or another waiter took it): then it goes back.
break_lock() {
  broken="$LOCK.broken.$ID"
  mv -T "$LOCK" "$broken" 2>/dev/null || return 0
  if [ "$(cat "$broken/owner" 2>/dev/null)" != "$1" ]; then
    mv -T "$broken" "$LOCK" 2>/dev/null || rm -rf "$broken"
    return 0
  fi
  log "taking over the seeding lock: $2 (${1:-owner unknown})"
  rm -rf "$broken"
}

remove_leftovers() {
  for leftover in "$TEMP_PREFIX"* "$LOCK.broken."*; do
    [ -e "$leftover" ] || continue
    case $leftover in "$STAGING" | "$STAGING".*) continue ;; esac
    log "removing leftover of an interrupted earlier run: $leftover"
    rm -rf "$leftover"
  done
}

# Runs "$@" in the background while a ticker keeps the lock's heartbeat and logs progress of
# WATCH_FILE against WATCH_TOTAL bytes (0: unknown) under the label $1. Returns the command's
# status. The main shell just waits: no polling delay is added to the copy.
run_watched() {
  label=$1
  shift
  "$@" &
  job=$!
  ticker "$job" "$label" &
  TICKER_PID=$!
  wait "$job"
  status=$?
  kill "$TICKER_PID" 2>/dev/null
  wait "$TICKER_PID" 2>/dev/null
  TICKER_PID=
  return "$status"
}

# shellcheck disable=SC2317 # runs in the background, started by run_watched
ticker() {
  tick_sleep=
  trap 'kill "$tick_sleep" 2>/dev/null; exit 0' TERM
  ticks=0
  tick_start=$(now)
  while kill -0 "$1" 2>/dev/null; do
    sleep 1 >/dev/null 2>&1 &
    tick_sleep=$!
    wait "$tick_sleep"
    ticks=$((ticks + 1))
    heartbeat "$ticks"
    # No WATCH_FILE: the command logs its own progress.
    if [ -n "$WATCH_FILE" ] && [ $((ticks % PROGRESS_INTERVAL)) -eq 0 ]; then
      # The smaller of size and allocated bytes: qemu-img sets the size first, then fills it.
      done_bytes=$(stat -c '%s %b %B' "$WATCH_FILE" 2>/dev/null | awk '{ a = $2 * $3; print (a < $1 ? a : $1) }')
      done_bytes=${done_bytes:-0}
      if [ "$WATCH_TOTAL" -gt 0 ]; then
        log "$2: $done_bytes of $WATCH_TOTAL bytes ($((done_bytes * 100 / WATCH_TOTAL))%, $((done_bytes / 1048576)) MiB of $((WATCH_TOTAL / 1048576)) MiB) after $(($(now) - tick_start)) s"
      else
        log "$2: $done_bytes bytes ($((done_bytes / 1048576)) MiB) after $(($(now) - tick_start)) s"
      fi
    fi
  done
}

# ---------------------------------------------------------------------------------------------
# Producers: each one makes "$STAGING" from its source, or sets FAIL_REASON and returns 1.
# STAGING_SHA256 is set when the sha256 was computed on the way.

# Free space on the volume for $1 more bytes.
check_free_space() {
  available_kib=$(df -Pk "$TARGET_DIR" 2>/dev/null | awk 'NR == 2 { print $4 }')
  case $available_kib in '' | *[!0-9]*)
    log "could not read the free space of $TARGET_DIR; copying without the check"
    return 0 ;;
  esac
  # The image plus a little for the lock and the record.
  needed_kib=$(( ($1 + 1023) / 1024 + 64 ))
  if [ "$available_kib" -lt "$needed_kib" ]; then
    FAIL_REASON="not enough space on the volume: $((needed_kib / 1024)) MiB needed, $((available_kib / 1024)) MiB free in $TARGET_DIR (make the disk volume larger, or free space on it)"
    return 1
  fi
  return 0
}

# How a source with holes is copied, keeping them where the tools allow (a qcow2 with unallocated
# space at its end, or a preallocated one, stays sparse): GNU cp --sparse=always (in an image
# with coreutils); else qemu-img reading the bytes as raw (-S: runs of zeros become holes), then
# cut back to the exact size (it rounds up to 512 bytes); else busybox cp, which fills holes.
choose_copier() {
  if cp --help 2>&1 | grep -q -- '--sparse'; then
    COPIER=gnu-cp
  elif command -v qemu-img >/dev/null 2>&1 && command -v truncate >/dev/null 2>&1; then
    COPIER=qemu-img
  else
    COPIER=plain
  fi
}

# shellcheck disable=SC2317 # the copiers run through run_watched
# cp: it copies in the kernel (sendfile, copy_file_range), where a shell loop or cat copies
# through user space.
copy_plain() {
  case $COPIER in
    gnu-cp) cp --sparse=always "$1" "$STAGING" ;;
    qemu-img)
      qemu-img convert -q -f raw -O raw -S 4k "$(safe_spec "$1" raw)" "$STAGING" \
        && truncate -s "$(size_of "$1")" "$STAGING" ;;
    *) cp "$1" "$STAGING" ;;
  esac
}
# The digest beside the copy (another core): the source is read once more, from the page cache.
# shellcheck disable=SC2317
copy_hashing() {
  sha256sum < "$1" > "$STAGING.sha256" &
  hashing=$!
  copy_plain "$1" || { wait "$hashing"; return 1; }
  wait "$hashing"
}
# shellcheck disable=SC2317
hash_file() { sha256sum < "$1" > "$STAGING.sha256"; }

# Copies the local file $2 (source label $1) to the staging file, with progress.
copy_to_staging() {
  if [ ! -e "$2" ]; then
    FAIL_REASON="$2 not found"
    return 1
  fi
  if [ ! -f "$2" ] || [ ! -r "$2" ]; then
    FAIL_REASON="$2 is not a readable file"
    return 1
  fi
  # The policy before anything opens the file: a refused image is not even copied.
  if ! check_image_policy "$2"; then
    FAIL_REASON="$2: $FAIL_REASON"
    return 1
  fi
  source_stat=$(stat -L -c '%s %b %B' "$2")
  source_size=${source_stat%% *}
  source_blocks=${source_stat#* }
  allocated=$((${source_blocks% *} * ${source_blocks#* }))
  # A source without holes is copied by plain cp (the kernel's copy, the fastest); one with holes
  # by a sparse copier when there is one, which needs room for the allocated bytes only.
  COPIER=plain
  needed=$source_size
  if [ "$allocated" -lt "$source_size" ]; then
    choose_copier
    [ "$COPIER" = plain ] || needed=$allocated
  fi
  check_free_space "$needed" || return 1
  log "$1: copying $2 ($source_size bytes, $needed needed on the volume, with $COPIER) to $STAGING"
  WATCH_FILE=$STAGING
  WATCH_TOTAL=$source_size
  copy_started=$(now)
  if [ -n "$EXPECTED_SHA256" ]; then
    run_watched "$1: copying" copy_hashing "$2"
  else
    run_watched "$1: copying" copy_plain "$2"
  fi
  copy_status=$?
  copied=$(stat -c %s "$STAGING" 2>/dev/null || echo 0)
  if [ "$copy_status" -ne 0 ] || [ "$copied" != "$source_size" ]; then
    FAIL_REASON="copy of $2 failed after $copied of $source_size bytes (volume full or not writable, or the source unreadable?)"
    return 1
  fi
  if [ -n "$EXPECTED_SHA256" ]; then
    STAGING_SHA256=$(cut -d' ' -f1 < "$STAGING.sha256")
  fi
  log "$1: copied $copied bytes in $(($(now) - copy_started)) s"
  return 0
}

produce_staged() {
  if [ -L "$STAGED" ] || [ ! -f "$STAGED" ]; then
    not_staged_file
    return 1
  fi
  # A hard link, not a rename: the staged file stays until the disk is in place (seed then removes
  # it). A seeder killed from here on is restarted alone by the kubelet (the stage container does
  # not run again) and must find the snapshot again. Under the lock, so no other seeder takes it.
  if ! ln "$STAGED" "$STAGING" 2>/dev/null; then
    if [ -e "$STAGED" ]; then
      FAIL_REASON="could not link $STAGED to $STAGING (does the volume support hard links?)"
    else
      FAIL_REASON="the staged file $STAGED vanished"
    fi
    return 1
  fi
  log "staged snapshot: taking $STAGED ($(stat -c %s "$STAGING") bytes)"
  return 0
}

produce_fetch() {
  if [ -z "$SNAPSHOT_REF" ]; then
    FAIL_REASON="no snapshot reference configured (SEED_SNAPSHOT_REF)"
    return 1
  fi
  if [ ! -f "$FETCH_SCRIPT" ]; then
    FAIL_REASON="the registry-client fetch script $FETCH_SCRIPT is not there (it is mounted beside seed-disk.sh)"
    return 1
  fi
  log "snapshot: fetching $SNAPSHOT_REF with $FETCH_SCRIPT"
  # The fetch script logs its own download progress; the ticker keeps the lock's heartbeat.
  WATCH_FILE=
  WATCH_TOTAL=0
  # Its stderr is its failure line: it becomes this source's reason (and goes to the log).
  run_watched "snapshot: fetching" sh "$FETCH_SCRIPT" "$SNAPSHOT_REF" "$STAGING" 2> "$STAGING.fetch-error"
  fetch_status=$?
  if [ "$fetch_status" -ne 0 ]; then
    sed 's/^/snapshot: /' "$STAGING.fetch-error"
    reason=$(sed -n 's/^fetch-snapshot: FAILED: //p' "$STAGING.fetch-error" | tail -n 1)
    if [ -z "$reason" ]; then
      reason="fetching $SNAPSHOT_REF failed ($FETCH_SCRIPT exited $fetch_status: $(one_line "$(tail -n 3 "$STAGING.fetch-error")"))"
    fi
    FAIL_REASON=$reason
    return 1
  fi
  if [ ! -s "$STAGING" ]; then
    FAIL_REASON="$FETCH_SCRIPT exited 0 but wrote nothing to the staging file"
    return 1
  fi
  return 0
}

# Produces the staging file for source $1; sets SOURCE_DESC (what the record names).
produce() {
  STAGING_SHA256=
  case $1 in
    "staged snapshot")
      SOURCE_DESC=$STAGED
      produce_staged ;;
    builtin)
      SOURCE_DESC=$BUILTIN_PATH
      copy_to_staging builtin "$BUILTIN_PATH" ;;
    snapshot)
      SOURCE_DESC=$SNAPSHOT_REF
      case $SNAPSHOT_METHOD in
        kubelet-pull)
          if [ -f "$STAGE_NOTE" ] && [ ! -L "$STAGE_NOTE" ]; then
            FAIL_REASON="the snapshot could not be staged: $(one_line "$(cat "$STAGE_NOTE")")"
          else
            FAIL_REASON="nothing was staged at $STAGED (did the snapshot image's stage init container run?)"
          fi
          return 1 ;;
        registry-client) produce_fetch ;;
        *)
          FAIL_REASON="unknown SEED_SNAPSHOT_METHOD '$SNAPSHOT_METHOD' (allowed: kubelet-pull, registry-client)"
          return 1 ;;
      esac ;;
    *)
      FAIL_REASON="unknown source (allowed: builtin, snapshot)"
      return 1 ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# The one verify + commit path every source goes through.

# ---------------------------------------------------------------------------------------------
# The image policy: written once here, applied by every reader (the seeder's commit path for each
# source, `stage` in the snapshot image, `inspect` for wait-for-disk.sh and `check-image`).
# A disk image becomes (or is accepted as) the disk only when it is self-contained:
#   - qcow2, version 2 or 3, a cluster size QEMU supports;
#   - no backing file (backing_file_offset and backing_file_size 0): a backing file reads a host
#     file, or the network (http://, json:{...}) from inside the cluster;
#   - no external data file (incompatible feature bit 2, header extension 0x44415441): the guest
#     would read or write a host file;
#   - not encrypted (crypt_method 0, no FDE extension 0x0537be77): it cannot boot unattended;
#   - not marked corrupt, and no incompatible or autoclear feature QEMU 7.2 (the emulator's,
#     Debian bookworm) does not know;
#   - virtual size at most SEED_MAX_VIRTUAL_SIZE and at least SEED_MIN_VIRTUAL_SIZE.
# The header is read with od before qemu-img ever sees the file, and qemu-img then opens it only
# as json:{qcow2 over the file driver, backing null}: no backing chain, no protocol.

# read_header FILE [BYTES]: reads the first BYTES (default 4096) of FILE with one od and sets the
# header's fields (H_*) with one awk, which also walks the header extensions (H_EXT: end, data,
# fde, truncated at H_EXT_AT, overrun, or more: the walk needs bytes past BYTES). The awk prints
# only numbers, hex digits and its own words, which the shell evals: never text of the file.
# A field the file is too short for is '' (the hex ones: the bytes there are, like od prints);
# 8-byte and 7-byte fields stay hex, for the shell's 64-bit arithmetic (awk's doubles are not).
read_header() {
  # Not a qcow2 when od or awk cannot run at all, as when the file has no bytes.
  H_MAGIC=
  eval "$(od -An -v -N "${2:-4096}" -tx1 "$1" 2>/dev/null | awk -v want="${2:-4096}" '
    { line[NR - 1] = $0; n += NF }
    function hex(at, len,   s, i) {
      for (i = at; i < at + len && i < n; i++) s = s substr(line[int(i / 16)], (i % 16) * 3 + 2, 2)
      return s
    }
    function full(at, len) { return at + len <= n ? hex(at, len) : "" }
    function uint(at,   h, v, i) {
      if (at + 4 > n) return ""
      h = hex(at, 4); v = 0
      for (i = 1; i <= 8; i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
      return v
    }
    # The extension walk, bounded by the first cluster (checked by the shell before it uses it).
    function walk(at, cluster,   type, len) {
      while (at + 8 <= cluster) {
        if (at + 8 > n) {
          if (n == want && want < cluster) return "more"
          ext_at = at; return "truncated"
        }
        type = hex(at, 4); len = uint(at + 4)
        if (type == "00000000") return "end"
        if (type == "44415441") return "data"
        if (type == "0537be77") return "fde"
        at += 8 + int((len + 7) / 8) * 8
      }
      return "overrun"
    }
    END {
      version = uint(4); bits = uint(20)
      length_at = version == 2 ? 72 : uint(100)
      ext = "skip"; ext_at = 0
      if ((version == 2 || version == 3) && bits != "" && bits >= 9 && bits <= 21 && length_at != "") {
        cluster = 1; for (i = 0; i < bits; i++) cluster *= 2
        ext = walk(length_at, cluster)
      }
      printf "H_MAGIC=%s H_VERSION=%s H_HEADER_LENGTH=%s H_BACKING=%s H_BACKING_OFFSET=%s H_BACKING_SIZE=%s\n", hex(0, 4), version, uint(100), hex(8, 12), full(9, 7), uint(16)
      printf "H_CLUSTER_BITS=%s H_SIZE=%s H_CRYPT=%s H_L1_ENTRIES=%s H_L1_OFFSET=%s H_RT_OFFSET=%s H_RT_CLUSTERS=%s\n", bits, hex(24, 8), uint(32), uint(36), full(41, 7), full(49, 7), uint(56)
      printf "H_INCOMPAT_HIGH=%s H_INCOMPAT=%s H_INCOMPAT_HEX=%s H_AUTOCLEAR_HIGH=%s H_AUTOCLEAR=%s H_AUTOCLEAR_HEX=%s\n", hex(72, 4), uint(76), hex(72, 8), hex(88, 4), uint(92), hex(88, 8)
      printf "H_EXT=%s H_EXT_AT=%d\n", ext, ext_at
    }')"
}

# The file's size in bytes (stat of GNU and busybox; wc elsewhere).
size_of() { stat -L -c %s "$1" 2>/dev/null || wc -c < "$1" | tr -d ' '; }

# QEMU 7.2's known features: incompatible dirty(0) corrupt(1) data-file(2) compression(3)
# extended-l2(4); autoclear bitmaps(0) data-file-raw(1). Corrupt, data-file and data-file-raw
# are refused; unknown bits are refused too.
INCOMPAT_ALLOWED=$((0x19))
AUTOCLEAR_ALLOWED=$((0x01))

# check_image_policy FILE: the header-only policy (needs od, awk; no qemu-img). Returns 0 when
# FILE passes; otherwise sets FAIL_REASON to one sentence and returns 1. On success sets
# IMAGE_VERSION, IMAGE_VIRTUAL_SIZE, IMAGE_CLUSTER_SIZE, IMAGE_HEADER_LENGTH, and the header's
# fields H_* (read_header) that data_end_of and existing_is_sound use after it.
check_image_policy() {
  read_header "$1"
  if [ "$H_MAGIC" != 514649fb ]; then
    FAIL_REASON="not a qcow2 image (first bytes '${H_MAGIC:-none}', expected 514649fb)"
    return 1
  fi
  IMAGE_VERSION=$H_VERSION
  [ -n "$IMAGE_VERSION" ] || { FAIL_REASON="truncated qcow2 header"; return 1; }
  case $IMAGE_VERSION in
    2) IMAGE_HEADER_LENGTH=72 ;;
    3) IMAGE_HEADER_LENGTH=$H_HEADER_LENGTH
       [ -n "$IMAGE_HEADER_LENGTH" ] || { FAIL_REASON="truncated qcow2 header"; return 1; } ;;
    *) FAIL_REASON="unsupported qcow2 version $IMAGE_VERSION (QEMU reads 2 and 3)"; return 1 ;;
  esac
  if [ "$H_BACKING" != 000000000000000000000000 ]; then
    FAIL_REASON="it has a backing file ($(backing_name_of "$1")): the disk would read another file or the network; only self-contained images are accepted (qemu-img convert -O qcow2 flattens it)"
    return 1
  fi
  cluster_bits=$H_CLUSTER_BITS
  [ -n "$cluster_bits" ] || { FAIL_REASON="truncated qcow2 header"; return 1; }
  if [ "$cluster_bits" -lt 9 ] || [ "$cluster_bits" -gt 21 ]; then
    FAIL_REASON="invalid cluster size 2^$cluster_bits (QEMU reads 2^9 to 2^21)"
    return 1
  fi
  IMAGE_CLUSTER_SIZE=$((1 << cluster_bits))
  if [ "$IMAGE_HEADER_LENGTH" -lt 72 ] || [ $((IMAGE_HEADER_LENGTH % 8)) -ne 0 ] \
    || { [ "$IMAGE_VERSION" -eq 3 ] && [ "$IMAGE_HEADER_LENGTH" -lt 104 ]; } || [ "$IMAGE_HEADER_LENGTH" -ge "$IMAGE_CLUSTER_SIZE" ]; then
    FAIL_REASON="invalid qcow2 header length $IMAGE_HEADER_LENGTH"
    return 1
  fi
  if [ "$H_CRYPT" != 0 ]; then
    FAIL_REASON="it is encrypted (crypt_method $H_CRYPT): an encrypted disk cannot boot unattended; decrypt it with qemu-img convert"
    return 1
  fi
  check_features || return 1
  check_extensions "$1" || return 1
  check_virtual_size
}

# The backing file's name, for the refusal (at most 200 characters, printable only).
backing_name_of() {
  if [ -z "$H_BACKING_OFFSET" ] || [ -z "$H_BACKING_SIZE" ]; then echo unreadable; return 0; fi
  backing_size=$H_BACKING_SIZE
  [ "$backing_size" -gt 200 ] && backing_size=200
  name=$(dd if="$1" bs=1 skip=$((0x$H_BACKING_OFFSET)) count="$backing_size" 2>/dev/null | tr -c 'A-Za-z0-9._/:{}",=@+ -' '?')
  echo "'${name:-?}'"
}

# Incompatible and autoclear feature bits (version 3 only: version 2 has none).
check_features() {
  [ "$IMAGE_VERSION" -eq 3 ] || return 0
  if [ -z "$H_INCOMPAT" ] || [ -z "$H_AUTOCLEAR" ]; then FAIL_REASON="truncated qcow2 header"; return 1; fi
  if [ $((H_INCOMPAT & 4)) -ne 0 ]; then
    FAIL_REASON="it has an external data file (incompatible feature bit 2): the guest would read and write a host file; only self-contained images are accepted (qemu-img convert -O qcow2 makes one)"
    return 1
  fi
  if [ $((H_INCOMPAT & 2)) -ne 0 ]; then
    FAIL_REASON="it is marked corrupt (incompatible feature bit 1): QEMU will not open it for writing; repair it with qemu-img check -r all"
    return 1
  fi
  if [ "$H_INCOMPAT_HIGH" != 00000000 ] || [ $((H_INCOMPAT & ~INCOMPAT_ALLOWED)) -ne 0 ]; then
    FAIL_REASON="it uses incompatible features unknown to the emulator's QEMU 7.2 (bits 0x$H_INCOMPAT_HEX); convert it with qemu-img 7.2 (qemu-img convert -O qcow2 -o compat=1.1)"
    return 1
  fi
  if [ "$H_AUTOCLEAR_HIGH" != 00000000 ] || [ $((H_AUTOCLEAR & ~AUTOCLEAR_ALLOWED)) -ne 0 ]; then
    FAIL_REASON="it uses autoclear features the seeder does not accept (bits 0x$H_AUTOCLEAR_HEX; bit 1 is a raw external data file)"
    return 1
  fi
  return 0
}

# Header extensions: type and length (4 bytes each), data padded to 8 bytes, type 0 ends them.
# They all lie in the first cluster; read_header walks them, bounded by it (and the first 4 KiB
# are read again up to the cluster's end only when the walk goes past them).
check_extensions() {
  if [ "$H_EXT" = more ]; then read_header "$1" "$IMAGE_CLUSTER_SIZE"; fi
  case $H_EXT in
    end) return 0 ;;
    data) FAIL_REASON="it names an external data file (header extension 0x44415441): the guest would read and write a host file; only self-contained images are accepted" ;;
    fde) FAIL_REASON="it is encrypted (full disk encryption header extension 0x0537be77): an encrypted disk cannot boot unattended" ;;
    truncated) FAIL_REASON="truncated qcow2 header extension at byte $H_EXT_AT" ;;
    *) FAIL_REASON="its header extensions run past the first cluster (no end marker)" ;;
  esac
  return 1
}

check_virtual_size() {
  size_hex=$H_SIZE
  case $size_hex in
    [89abcdef]*) FAIL_REASON="its virtual size 0x$size_hex is over the limit of $MAX_VIRTUAL_SIZE bytes (SEED_MAX_VIRTUAL_SIZE)"; return 1 ;;
  esac
  IMAGE_VIRTUAL_SIZE=$((0x$size_hex))
  if [ "$IMAGE_VIRTUAL_SIZE" -gt "$MAX_VIRTUAL_SIZE" ]; then
    FAIL_REASON="its virtual size of $IMAGE_VIRTUAL_SIZE bytes is over the limit of $MAX_VIRTUAL_SIZE bytes (raise maxVirtualSize if this image is right)"
    return 1
  fi
  if [ "$IMAGE_VIRTUAL_SIZE" -lt "$MIN_VIRTUAL_SIZE" ]; then
    FAIL_REASON="its virtual size of $IMAGE_VIRTUAL_SIZE bytes is under the declared $MIN_VIRTUAL_SIZE bytes (minVirtualSize): is it the right image?"
    return 1
  fi
  return 0
}

# FILE as a json: spec that qemu-img opens as qcow2 over the plain file driver with no backing:
# nothing but the file itself, whatever its header says (a path is never parsed as a protocol).
safe_spec() {
  case $1 in
    *[\\\"]*) json_path=$(printf '%s' "$1" | sed 's/[\\"]/\\&/g') ;;
    *) json_path=$1 ;;
  esac
  spec_backing=
  [ "${2:-qcow2}" = qcow2 ] && spec_backing=',"backing":null'
  printf 'json:{"driver":"%s","file":{"driver":"file","filename":"%s"}%s}' "${2:-qcow2}" "$json_path" "$spec_backing"
}

# The largest byte the image needs in its file: the L1 and refcount tables, every L2 table and
# refcount block they point to (whole clusters), and every uncompressed extent holding data
# (qemu-img map; zero clusters and subclusters are not read from the file). A file shorter than
# that was cut (qemu-img check reads missing bytes as zeros and misses it); a compressed, freshly
# created or extended-L2 image legitimately ends before its last cluster.
data_end_of() {
  if [ -z "$H_L1_ENTRIES" ] || [ -z "$H_L1_OFFSET" ] || [ -z "$H_RT_OFFSET" ] || [ -z "$H_RT_CLUSTERS" ]; then return 1; fi
  l1_offset=$((0x$H_L1_OFFSET))
  l1_bytes=$((H_L1_ENTRIES * 8))
  rt_offset=$((0x$H_RT_OFFSET))
  rt_bytes=$((H_RT_CLUSTERS * IMAGE_CLUSTER_SIZE))
  {
    echo $((l1_offset + l1_bytes)) $((rt_offset + rt_bytes))
    table_bytes "$1" "$l1_offset" "$l1_bytes"
    table_bytes "$1" "$rt_offset" "$rt_bytes"
    echo map
    qemu-img map -U --output=json "$(safe_spec "$1")" 2>/dev/null
  } | awk -v cluster="$IMAGE_CLUSTER_SIZE" '
    BEGIN { hex = "0123456789abcdef"; end = 0; part = "ends" }
    $0 == "table" || $0 == "map" { part = $0; n = 0; next }
    part == "ends" { for (i = 1; i <= NF; i++) if ($i + 0 > end) end = $i + 0; next }
    # A table of 8-byte big-endian cluster offsets (L1 or refcount table): the end of the last
    # cluster it points to. Bits 9-55 are the offset; byte 0 holds flags only. A line of zeros
    # (16 bytes: two whole entries) points nowhere.
    part == "table" {
      if ($0 ~ /^( 00)+$/) { n += NF; next }
      for (i = 1; i <= NF; i++) {
        n++
        if (n % 8 == 1) { value = 0; continue }
        value = value * 256 + (index(hex, substr($i, 1, 1)) - 1) * 16 + index(hex, substr($i, 2, 1)) - 1
        if (n % 8 == 0) { value -= value % 512; if (value > 0 && value + cluster > end) end = value + cluster }
      }
      next
    }
    # Every uncompressed extent holding data: offset + length.
    /"data": *true/ && /"length": *[0-9]*.*"offset": *[0-9]*/ {
      length_text = $0; sub(/.*"length": */, "", length_text)
      offset_text = $0; sub(/.*"offset": */, "", offset_text)
      if (offset_text + length_text > end) end = offset_text + length_text
    }
    END { printf "%.0f\n", end }'
}

# The table of $3 bytes at offset $2 of file $1 for data_end_of's awk: a "table" line, then its
# bytes as od prints them (none when the table is empty).
table_bytes() {
  echo table
  [ "$3" -gt 0 ] || return 0
  od -An -v -j "$2" -N "$3" -tx1 "$1" 2>/dev/null
}

# qemu-img check through the safe spec; -U: others (running emulators) may hold the file.
# Sets IMAGE_LEAKS; on failure sets FAIL_REASON and returns 1.
qemu_img_check() {
  if ! command -v qemu-img >/dev/null 2>&1; then
    FAIL_REASON="qemu-img is not installed in the seeder image (run the seeder in the emulator image, or set verification to header)"
    return 1
  fi
  check_output=$(qemu-img check -U "$(safe_spec "$1")" 2>&1)
  check_status=$?
  IMAGE_LEAKS=0
  case $check_output in
    *" leaked clusters were found"*)
      IMAGE_LEAKS=$(printf '%s\n' "$check_output" | sed -n 's/^\([0-9][0-9]*\) leaked clusters were found.*/\1/p')
      IMAGE_LEAKS=${IMAGE_LEAKS:-0} ;;
  esac
  case $check_status in
    0) ;;
    3) log "note: the image has $IMAGE_LEAKS leaked clusters (harmless: space only), accepting it" ;;
    *)
      FAIL_REASON="not a sound qcow2 image (qemu-img check exited $check_status: $(one_line "$(printf '%s' "$check_output" | sed 's/json:{"driver":"qcow2".*"backing":null}/the image/g')"))"
      return 1 ;;
  esac
  data_end=$(data_end_of "$1") || { FAIL_REASON="could not read the image's tables"; return 1; }
  file_size=$(size_of "$1")
  if [ "$file_size" -lt "$data_end" ]; then
    FAIL_REASON="truncated qcow2 image: its data ends at byte $data_end but the file has $file_size bytes"
    return 1
  fi
  return 0
}

# verify_image FILE LABEL: the policy, then (SEED_VERIFY=qemu-img) qemu-img check and the data
# end within the file, then the expected sha256 (SEED_SHA256; STAGING_SHA256 when computed on
# the way). Returns 0 when FILE may become the disk; otherwise FAIL_REASON says why.
verify_image() {
  IMAGE_LEAKS=0
  check_image_policy "$1" || return 1
  case $VERIFY in
    qemu-img) qemu_img_check "$1" || return 1 ;;
    header) ;;
    *)
      FAIL_REASON="unknown SEED_VERIFY '$VERIFY' (allowed: qemu-img, header)"
      return 1 ;;
  esac
  [ -n "$EXPECTED_SHA256" ] || return 0
  if [ -z "${STAGING_SHA256:-}" ]; then
    WATCH_FILE=$1
    WATCH_TOTAL=0
    run_watched "$2: computing sha256" hash_file "$1" || true
    STAGING_SHA256=$(cut -d' ' -f1 < "$STAGING.sha256" 2>/dev/null)
  fi
  if [ "$STAGING_SHA256" != "$EXPECTED_SHA256" ]; then
    FAIL_REASON="sha256 ${STAGING_SHA256:-(not computed)} does not match the expected $EXPECTED_SHA256"
    return 1
  fi
  return 0
}

write_record() {
  if [ -n "$STAGING_SHA256" ]; then
    digest_note="verified against the expected sha256"
  else
    digest_note="not computed (no expected sha256 configured)"
  fi
  {
    printf '# What seed-disk.sh seeded %s from. Re-seeding is explicit: stop the emulators, delete\n' "$TARGET_NAME"
    printf '# the disk, this file and the overlays made on the disk, then start again.\n'
    printf 'source=%s\n' "$1"
    printf 'location=%s\n' "$SOURCE_DESC"
    printf 'snapshot_ref=%s\n' "$SNAPSHOT_REF"
    printf 'sha256=%s\n' "$STAGING_SHA256"
    printf 'sha256_note=%s\n' "$digest_note"
    printf 'size=%s\n' "$(stat -c %s "$STAGING")"
    printf 'seeded_at=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'seeded_by=%s\n' "$POD_NAME"
  } > "$STAGING.record"
}

# Verifies, flushes and links the staging file into place for source $1; returns 0 when the
# target exists afterwards.
commit_staging() {
  heartbeat commit
  if ! verify_image "$STAGING" "$1"; then
    log "$1: rejected: $FAIL_REASON"
    rm -f "$STAGING" "$STAGING".*
    return 1
  fi
  if ! write_record "$1"; then
    FAIL_REASON="could not write the record $STAGING.record (volume full?)"
    rm -f "$STAGING" "$STAGING".*
    return 1
  fi
  WATCH_FILE=$STAGING
  WATCH_TOTAL=0
  if ! run_watched "$1: flushing" sync "$STAGING" "$STAGING.record"; then
    FAIL_REASON="could not flush $STAGING to the volume"
    rm -f "$STAGING" "$STAGING".*
    return 1
  fi
  # The record goes first where there is none, so that a seeder killed right after linking the
  # disk still leaves the disk's record (a record without a disk is replaced by the next seeding).
  record_linked=
  if ln "$STAGING.record" "$RECORD" 2>/dev/null; then record_linked=1; fi
  # link(2) fails rather than overwrite: if another seeder placed a disk meanwhile, theirs stays.
  if ln "$STAGING" "$TARGET" 2>/dev/null; then
    # A record there already is stale: replaced. -T: onto the name itself, never into a
    # directory a link there would point to.
    [ -n "$record_linked" ] || mv -fT "$STAGING.record" "$RECORD"
    rm -f "$STAGING" "$STAGING".*
    sync "$TARGET_DIR" 2>/dev/null || true
    log "seeded $TARGET from $1 ($SOURCE_DESC), verified; record in $RECORD"
    return 0
  fi
  rm -f "$STAGING" "$STAGING".*
  if [ -e "$TARGET" ]; then
    log "another seeder placed $TARGET meanwhile; keeping theirs"
    return 0
  fi
  FAIL_REASON="could not link $STAGING to $TARGET (does the volume support hard links?)"
  return 1
}

try_candidate() {
  heartbeat "try"
  if produce "$1" && commit_staging "$1"; then
    return 0
  fi
  rm -f "$STAGING" "$STAGING".*
  record_failure "$1" "$FAIL_REASON"
  return 1
}

# ---------------------------------------------------------------------------------------------
# The existing disk

record_value() { sed -n "s/^$1=//p" "$RECORD" 2>/dev/null | head -n 1; }

# Whether the file at the target may be the disk. Returns 1, FINDING saying what it is, only on a
# definite finding: a link (never followed), an empty file, refused by the image policy (not a
# qcow2, a backing or external data file...), or with qemu-img (when verification uses it and it
# is installed) corrupt or cut short. Read-only: the header first, then qemu-img on the file alone
# (qemu_img_check: no backing chain, -U). What it cannot decide (unreadable, I/O errors) keeps
# the disk: only a file that holds no usable game is ever set aside.
existing_is_sound() {
  FINDING=
  if [ -L "$TARGET" ]; then
    FINDING="a symbolic link (to $(readlink "$TARGET")), not a disk file on the volume"
    return 1
  fi
  # A directory or device: keep_existing refuses it, touching nothing.
  if [ ! -f "$TARGET" ] || [ ! -r "$TARGET" ]; then return 0; fi
  if [ "$(size_of "$TARGET")" -eq 0 ]; then
    FINDING="an empty file (0 bytes)"
    return 1
  fi
  if ! check_image_policy "$TARGET"; then
    FINDING=$FAIL_REASON
    return 1
  fi
  [ "$VERIFY" = qemu-img ] && command -v qemu-img >/dev/null 2>&1 || return 0
  qemu_img_check "$TARGET" && return 0
  # Marked dirty (lazy refcounts, the emulator stopped mid-write): QEMU repairs the refcounts when
  # it opens the disk, so what check reports is not a verdict on the saved game.
  if [ "$IMAGE_VERSION" -eq 3 ] && [ $((${H_INCOMPAT:-0} & 1)) -eq 1 ]; then
    log "note: $TARGET is marked dirty (lazy refcounts) and qemu-img check reports: $FAIL_REASON; keeping it as it is (QEMU repairs it when it opens it)"
    return 0
  fi
  case $FAIL_REASON in
    *"ermission denied"* | *"nput/output error"* | *"could not read the image's tables"*)
      log "note: could not inspect $TARGET ($FAIL_REASON); keeping it as it is"
      return 0 ;;
  esac
  FINDING=$FAIL_REASON
  return 1
}

# Moves the name $1 itself (a link is not followed) to a dated name beside it: nothing is ever
# deleted. Sets ASIDE.
set_aside() {
  ASIDE="$1.set-aside-$(date -u +%Y%m%dT%H%M%SZ)"
  if [ -e "$ASIDE" ] || [ -L "$ASIDE" ]; then ASIDE="$ASIDE.$ID"; fi
  mv -T "$1" "$ASIDE" 2>/dev/null
}

# Under the lock: what is at the target cannot hold a saved game (FINDING), so it goes aside,
# with its record, and the disk is seeded as if it were missing.
set_aside_target() {
  if ! set_aside "$TARGET"; then
    fail "$TARGET cannot be the disk ($FINDING), and moving it aside to $ASIDE failed. What to do: move or delete it by hand, then restart the pod"
  fi
  log "WARNING: $TARGET cannot be the disk ($FINDING); moved it aside to $ASIDE (kept, not deleted), seeding a new disk"
  if [ -e "$RECORD" ] || [ -L "$RECORD" ]; then
    mv -T "$RECORD" "$ASIDE.seed-info" 2>/dev/null && log "moved its record $RECORD aside to $ASIDE.seed-info"
  fi
}

# The record is a link or a directory: it is never read or written through; it goes aside.
set_aside_record() {
  if set_aside "$RECORD"; then
    log "WARNING: $RECORD is not a regular file (a link or a directory); not reading or writing through it: moved it aside to $ASIDE"
  else
    log "WARNING: $RECORD is not a regular file (a link or a directory) and could not be moved aside; not reading or writing through it"
  fi
}

# Rule 1: the disk is kept exactly as it is; only the record beside it is read.
keep_existing() {
  if [ -L "$TARGET" ] || [ ! -f "$TARGET" ]; then
    fail "$TARGET exists but is not a regular file (a directory or a dangling link?); it is left as it is. What to do: remove it if it is not your disk, or point the seeder at the right path"
  fi
  log "disk image already present, keeping it as it is: $TARGET"
  if [ -L "$RECORD" ] || { [ -e "$RECORD" ] && [ ! -f "$RECORD" ]; }; then
    set_aside_record
  elif [ -f "$RECORD" ]; then
    recorded_sha256=$(record_value sha256)
    recorded_ref=$(record_value snapshot_ref)
    log "it was seeded from $(record_value source) ($(record_value location)) at $(record_value seeded_at), sha256 ${recorded_sha256:-not recorded}"
    how_to_replace="The disk is kept: per-instance overlays depend on it. To re-seed on purpose, stop the emulators, delete $TARGET, $RECORD and the overlays made on the disk, then start again"
    if [ -n "$EXPECTED_SHA256" ] && [ -n "$recorded_sha256" ] && [ "$recorded_sha256" != "$EXPECTED_SHA256" ]; then
      log "WARNING: the configured source (sha256 $EXPECTED_SHA256) differs from the base this disk was seeded from (sha256 $recorded_sha256). $how_to_replace"
    elif [ -n "$EXPECTED_SHA256" ] && [ -z "$recorded_sha256" ]; then
      log "note: an expected sha256 is configured but the record has none (it was seeded without one); cannot tell whether the disk matches. $how_to_replace"
    fi
    if [ -n "$SNAPSHOT_REF" ] && [ -n "$recorded_ref" ] && [ "$recorded_ref" != "$SNAPSHOT_REF" ]; then
      log "WARNING: the configured snapshot $SNAPSHOT_REF is not the one this disk was seeded from ($recorded_ref). $how_to_replace"
    fi
  else
    log "no seed record beside it ($RECORD): it was put there by hand or by an older seeder"
  fi
  tidy_up
  exit 0
}

# With the disk in place, what an earlier attempt left is only clutter: a staged snapshot, and,
# when the lock is free or was this pod's own dead attempt's, its lock and temporary files.
# A lock of another live seeder is left alone.
tidy_up() {
  drop_staged
  if [ -z "$LOCK_HELD" ]; then
    if ! create_lock; then
      owner=$(owner_line)
      [ -n "$POD_UID" ] || return 0
      case $owner in
        *"uid=$POD_UID "*) break_lock "$owner" "held by an earlier attempt of this pod, which is no longer running" ;;
        *) return 0 ;;
      esac
      create_lock || return 0
    fi
  fi
  remove_leftovers
}

target_present() { [ -e "$TARGET" ] || [ -L "$TARGET" ]; }

# Removes the staged snapshot and its note once they are of no use; only regular files and
# links (never followed): a directory left there by someone else stays, and says nothing here.
drop_staged() {
  for staged_name in "$STAGED" "$STAGE_NOTE"; do
    if [ -L "$staged_name" ] || [ -f "$staged_name" ]; then rm -f "$staged_name"; fi
  done
}

# The staged name holds a link or a directory, not a file a stage step wrote: removes it when it
# can (a link, an empty directory) and sets FAIL_REASON, so the next source runs.
not_staged_file() {
  if [ -L "$STAGED" ]; then
    rm -f "$STAGED"
    FAIL_REASON="$STAGED was a symbolic link, not a staged snapshot (removed, not followed)"
  elif rmdir "$STAGED" 2>/dev/null; then
    FAIL_REASON="$STAGED was an empty directory, not a staged snapshot (removed)"
  else
    FAIL_REASON="$STAGED is not a staged snapshot but a $(stat -c '%F owned by uid %u' "$STAGED" 2>/dev/null) that cannot be removed here. What to do: remove it by hand"
  fi
}

check_config() {
  for knob in "SEED_LOCK_TIMEOUT_SECONDS=$LOCK_TIMEOUT" "SEED_LOCK_STALE_SECONDS=$LOCK_STALE" "SEED_PROGRESS_SECONDS=$PROGRESS_INTERVAL"; do
    is_count "${knob#*=}" || fail "invalid ${knob%%=*} '${knob#*=}': must be a whole number of seconds, at least 1"
  done
  for knob in "SEED_MAX_VIRTUAL_SIZE=$MAX_VIRTUAL_SIZE" "SEED_MIN_VIRTUAL_SIZE=$MIN_VIRTUAL_SIZE"; do
    case ${knob#*=} in
      '' | *[!0-9]*) fail "invalid ${knob%%=*} '${knob#*=}': must be a whole number of bytes" ;;
    esac
    bytes=${knob#*=}
    [ ${#bytes} -le 18 ] || fail "invalid ${knob%%=*} '$bytes': at most 18 digits"
  done
  case $EXPECTED_SHA256 in
    '') ;;
    *[!0-9a-f]*) fail "invalid SEED_SHA256 '$EXPECTED_SHA256': must be 64 lower-case hex digits" ;;
    *) [ ${#EXPECTED_SHA256} -eq 64 ] || fail "invalid SEED_SHA256 '$EXPECTED_SHA256': must be 64 lower-case hex digits" ;;
  esac
}

# Proves the volume writable by writing a small file on it: `[ -w ]` is not enough (busybox's
# says yes on a read-only mount, and no test sees a volume without free bytes or inodes), and a
# seeder that cannot write would wait for a lock that nobody holds.
check_volume() {
  if [ ! -d "$TARGET_DIR" ]; then
    fail "$TARGET_DIR is not a directory (user $(id -u), groups $(id -G)). What to do: mount the disk volume there read-write"
  fi
  probe="$STAGING.probe"
  probe_error=$(dd if=/dev/zero of="$probe" bs=4096 count=1 2>&1 >/dev/null)
  probe_status=$?
  rm -f "$probe"
  [ "$probe_status" -eq 0 ] && return 0
  case $probe_error in
    *"Read-only file system"*)
      fail "the disk volume $TARGET_DIR is mounted read-only (writing $probe failed). What to do: mount the disk volume read-write" ;;
    *"No space left"* | *"quota"*)
      free_inodes=$(df -Pi "$TARGET_DIR" 2>/dev/null | awk 'NR == 2 { print $4 }')
      if [ "$free_inodes" = 0 ]; then
        fail "the disk volume $TARGET_DIR has no free inodes (creating $probe failed). What to do: delete files on the volume or make it larger"
      fi
      fail "the disk volume $TARGET_DIR has no free space (writing 4 KiB to $probe failed: $(one_line "$probe_error")). What to do: free space on the volume or make it larger" ;;
    *"ermission denied"* | *"not permitted"*)
      fail "$TARGET_DIR is not a writable directory (user $(id -u), groups $(id -G)). What to do: mount the disk volume there read-write, and give the pod an fsGroup that owns it" ;;
  esac
  fail "cannot write on the disk volume $TARGET_DIR ($(one_line "$probe_error")). What to do: check the volume's mount and its free space"
}

# Takes the lock, or exits: 0 when another seeder placed the disk meanwhile, 1 on timeout. With
# the lock, a disk found in place is handed to $1 (it exits), and what cannot be a disk is moved
# aside.
lock_or_exit() {
  acquire_lock
  case $? in
    0) ;;
    2) log "another seeder placed $TARGET while this one waited"; "$1" ;;
    *) fail "$FAIL_REASON" ;;
  esac
  if target_present; then
    if existing_is_sound; then "$1"; fi
    set_aside_target
  fi
  if [ -L "$RECORD" ] || { [ -e "$RECORD" ] && [ ! -f "$RECORD" ]; }; then set_aside_record; fi
}

seed() {
  if target_present && existing_is_sound; then keep_existing; fi
  check_volume
  lock_or_exit keep_existing
  remove_leftovers
  for source in $SOURCES; do
    candidate=$source
    # The kubelet-pull snapshot, staged by the snapshot image's init container, takes the place
    # of `snapshot` in the order: the user's order holds (a built-in image put first stays first).
    if [ "$source" = snapshot ] && [ "$SNAPSHOT_METHOD" = kubelet-pull ] && { [ -e "$STAGED" ] || [ -L "$STAGED" ]; }; then
      candidate="staged snapshot"
    fi
    if try_candidate "$candidate"; then
      drop_staged
      exit 0
    fi
  done
  drop_staged
  if target_present; then keep_existing; fi
  fail "no source produced $TARGET. Tried: $TRIED. What to do: $HINT"
}

# ---------------------------------------------------------------------------------------------
# stage FILE: the snapshot image's half (busybox only: header check, no qemu-img).

stage_failed() {
  log "not staged: $1; the seeder will report it and try its other sources"
  printf '%s\n' "$1" > "$STAGING.note" && mv -fT "$STAGING.note" "$STAGE_NOTE"
  exit 0
}

nothing_to_stage() {
  log "disk image already present ($TARGET): nothing to stage"
  exit 0
}

# Whether $1 is a plain file as the registry client and check-image accept it: a regular file
# with one name, reached through directories only (no symbolic link anywhere in its path), so
# that every reader of the image takes the same file. Sets FAIL_REASON.
plain_file() {
  walked=
  rest=${1#/}
  while [ -n "$rest" ]; do
    walked="$walked/${rest%%/*}"
    case $rest in */*) rest=${rest#*/} ;; *) rest= ;; esac
    if [ -L "$walked" ]; then
      FAIL_REASON="$walked is a symbolic link (to $(readlink "$walked")) in the snapshot image; the qcow2 must be a regular file there"
      return 1
    fi
  done
  if [ ! -f "$1" ]; then
    FAIL_REASON="$1 is not a regular file in the snapshot image (a directory, device or special file)"
    return 1
  fi
  links=$(stat -c %h "$1")
  if [ "$links" != 1 ]; then
    FAIL_REASON="$1 is a hard link ($links names for one file) in the snapshot image; the qcow2 must be a file of its own"
    return 1
  fi
}

stage() {
  file=$1
  if target_present && existing_is_sound; then nothing_to_stage; fi
  check_volume
  lock_or_exit nothing_to_stage
  if [ -f "$STAGED" ] && [ ! -L "$STAGED" ]; then
    log "a snapshot is already staged at $STAGED"
    exit 0
  fi
  if [ -e "$STAGED" ] || [ -L "$STAGED" ]; then
    not_staged_file
    [ -e "$STAGED" ] && stage_failed "$FAIL_REASON"
    log "$FAIL_REASON"
  fi
  remove_leftovers
  rm -f "$STAGE_NOTE"
  [ -e "$file" ] || [ -L "$file" ] || stage_failed "the snapshot file $file is not in the snapshot image"
  plain_file "$file" || stage_failed "$FAIL_REASON"
  # copy_to_staging applies the image policy (header only: no qemu-img here) before copying.
  copy_to_staging "staging snapshot" "$file" || stage_failed "$FAIL_REASON"
  WATCH_FILE=$STAGING
  WATCH_TOTAL=0
  run_watched "staging snapshot: flushing" sync "$STAGING" || stage_failed "could not flush $STAGING"
  mv -fT "$STAGING" "$STAGED" || stage_failed "could not rename $STAGING to $STAGED"
  sync "$TARGET_DIR" 2>/dev/null || true
  log "staged $file at $STAGED for the seeder"
  exit 0
}

# inspect FILE: the policy and SEED_VERIFY, for readers that only look (never writes).
inspect() {
  # Nothing to clean up: it creates nothing. No sha256 either (SEED_SHA256 is the seeder's).
  trap - EXIT
  EXPECTED_SHA256=
  if [ ! -f "$1" ] || [ ! -r "$1" ]; then
    fail "$1 is not a readable file"
  fi
  verify_image "$1" inspect || fail "$1: $FAIL_REASON"
  printf 'seed-disk: inspect: OK format=qcow2 version=%s virtual-size=%s cluster-size=%s file-size=%s leaks=%s verify=%s\n' \
    "$IMAGE_VERSION" "$IMAGE_VIRTUAL_SIZE" "$IMAGE_CLUSTER_SIZE" "$(size_of "$1")" "$IMAGE_LEAKS" "$VERIFY"
  exit 0
}

check_config
case ${1:-} in
  '') seed ;;
  stage)
    [ $# -eq 2 ] || fail "usage: seed-disk.sh stage FILE (got $# arguments)"
    stage "$2" ;;
  inspect)
    [ $# -eq 2 ] || fail "usage: seed-disk.sh inspect FILE (got $# arguments)"
    inspect "$2" ;;
  *) fail "unknown mode '$1' (usage: seed-disk.sh [stage FILE | inspect FILE])" ;;
esac
