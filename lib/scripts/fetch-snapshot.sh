#!/bin/sh
# fetch-snapshot.sh: the registry-client method of the snapshot source. Pulls a snapshot image
# with skopeo and extracts the one qcow2 file it holds.
#
# Usage:
#   fetch-snapshot.sh REFERENCE OUTPUT
#     REFERENCE  registry/repository:tag or registry/repository@sha256:<digest>
#     OUTPUT     the file to write the qcow2 to (seed-disk.sh passes its staging file on the disk
#                volume)
#
# seed-disk.sh runs it for the `snapshot` source when SEED_SNAPSHOT_METHOD=registry-client, and
# verifies OUTPUT afterwards (qemu-img check, expected sha256) on its one commit path: this
# script only fetches. It runs in the emulator image (which ships skopeo), as a non-root user
# with a read-only root filesystem (POSIX sh: busybox sh, dash). jq is not needed: the OCI
# manifests are read with awk.
#
# It reads the image as a container runtime (the kubelet-pull method) does, so that both methods
# and `cdk8s-qemu-loco check-image` take the same file or refuse the image (the corpus in
# test/snapshot/corpus.test.ts holds every reader to it):
#   1. `skopeo copy docker://REFERENCE oci:<work>/layout:snapshot`: skopeo checks every blob
#      against its digest (and the manifest against a pinned digest) while it downloads.
#   2. The manifest is read strictly: an OCI image manifest with the schema's keys only (no
#      duplicate, escaped or unknown key, such as "layers[9].digest", which a JSON parser would
#      ignore), every layer a tar, tar+gzip or tar+zstd (zstd when `zstd` is installed). The
#      media type decides the decompression; a compressed blob labelled plain tar is refused, a
#      plain tar labelled compressed is read as plain (as the runtime does).
#   3. Layers are listed top layer first (`tar -tv`, nothing written; a blob the manifest repeats
#      once) until one says something about the file (default snapshot.qcow2, the chart's `FROM scratch` + `COPY snapshot.qcow2 /`),
#      with the runtime's rules: member names are cleaned as paths under / (../ and a leading /
#      stay in the image); the last entry of a name wins; a whiteout (.wh.NAME of the file or of
#      a directory above it, .wh..wh..opq in such a directory or at the root) hides only lower
#      layers. Refused: the file as a symbolic link, hard link, device or directory; a link or file
#      in place of a directory above it; another name hard-linked to it; names that climb out of a
#      directory and back (a/b/../c), which busybox tar and the runtime read differently.
#   4. Only the file's bytes are extracted (`tar -xO`: no name, link or device is ever created),
#      after checking its size (from the listing) against the free space; a short write fails
#      as "the disk volume is full" with the sizes. It is renamed to OUTPUT.
#   Everything temporary lives in OUTPUT.fetch (same volume as OUTPUT, so the rename is a rename,
#   and no /tmp is needed, including skopeo's TMPDIR), removed on exit; tar's error messages are
#   kept in memory, not on the volume. The volume needs room for the downloaded layer and the
#   extracted file at once.
#
# Every failure exits non-zero with one line on stderr, "fetch-snapshot: FAILED: ...", saying what
# was tried and what to do; OUTPUT is then absent.
#
# Configuration (environment):
#   SEED_SNAPSHOT_PATH        the file inside the image          (default /snapshot.qcow2;
#                             letters, digits and . _ - + / only)
#   REGISTRY_AUTH_FILE        a docker config.json / containers auth.json with credentials
#                             (default: none, anonymous pulls)
#   SEED_REGISTRY_TLS_VERIFY  false: plain HTTP or unverified TLS, for a registry on a trusted
#                             private network                    (default true)
#   SEED_PROGRESS_SECONDS     seconds between progress lines     (default 10)
#   SEED_SKOPEO               the skopeo command                 (default skopeo)

set -u
umask 002

log() { printf 'fetch-snapshot: %s\n' "$*"; }

fail() {
  printf 'fetch-snapshot: FAILED: %s\n' "$*" >&2
  exit 1
}

# One line, at most 400 characters: for quoting tool output inside the failure line.
one_line() { printf '%s' "$1" | tr '\n\t' '  ' | cut -c1-400; }

[ $# -eq 2 ] || fail "usage: fetch-snapshot.sh REFERENCE OUTPUT (got $# arguments)"
REF=${1#docker://}
OUTPUT=$2
SNAPSHOT_PATH=${SEED_SNAPSHOT_PATH:-/snapshot.qcow2}
TLS_VERIFY=${SEED_REGISTRY_TLS_VERIFY:-true}
PROGRESS_INTERVAL=${SEED_PROGRESS_SECONDS:-10}
SKOPEO=${SEED_SKOPEO:-skopeo}
AUTH_FILE=${REGISTRY_AUTH_FILE:-}

# ---------------------------------------------------------------------------------------------
# Arguments and configuration

case $REF in
  '' | *[[:space:]]*) fail "invalid snapshot reference '$REF': expected registry/repository:tag or registry/repository@sha256:<digest>" ;;
esac
# A tag and a digest together: the digest is what gets pulled (skopeo takes only one of them).
case $REF in
  *@*)
    ref_name=${REF%%@*}
    ref_digest=${REF#*@}
    case ${ref_name##*/} in
      *:*)
        log "note: $REF names a tag and a digest; pulling by the digest"
        REF="${ref_name%:*}@$ref_digest" ;;
    esac ;;
esac
# The repository, without tag or digest.
REPOSITORY=${REF%%@*}
case ${REPOSITORY##*/} in *:*) REPOSITORY=${REPOSITORY%:*} ;; esac
# The registry host, for messages: the first component when it looks like a host.
case $REF in
  */*)
    first=${REF%%/*}
    case $first in
      *.* | *:* | localhost) REGISTRY=$first ;;
      *) REGISTRY=docker.io ;;
    esac ;;
  *) REGISTRY=docker.io ;;
esac

# The file's name inside a layer tar: no leading '/' or './'.
MEMBER=$SNAPSHOT_PATH
while :; do
  case $MEMBER in
    /*) MEMBER=${MEMBER#/} ;;
    ./*) MEMBER=${MEMBER#./} ;;
    *) break ;;
  esac
done
case /$MEMBER/ in
  // | */../* | */./* | *//* | *[!A-Za-z0-9._/+-]*) fail "invalid SEED_SNAPSHOT_PATH '$SNAPSHOT_PATH': must be the path of a file in the image, e.g. /snapshot.qcow2" ;;
esac

case $TLS_VERIFY in
  true | false) ;;
  *) fail "invalid SEED_REGISTRY_TLS_VERIFY '$TLS_VERIFY': must be true or false" ;;
esac
case $PROGRESS_INTERVAL in
  '' | *[!0-9]* | 0) fail "invalid SEED_PROGRESS_SECONDS '$PROGRESS_INTERVAL': must be a whole number of seconds, at least 1" ;;
esac
if [ -n "$AUTH_FILE" ] && [ ! -r "$AUTH_FILE" ]; then
  fail "the registry credentials file REGISTRY_AUTH_FILE=$AUTH_FILE is missing or unreadable (user $(id -u)). What to do: check that the Secret named by the registry client's authSecret exists in the pod's namespace and has the key .dockerconfigjson"
fi
if ! command -v "$SKOPEO" >/dev/null 2>&1; then
  fail "skopeo is not installed in this image, so the registry-client method cannot pull $REF. What to do: run the seeder in an image that ships skopeo (the emulator image does), or use the kubelet-pull method"
fi

OUTPUT_DIR=$(dirname "$OUTPUT")
if [ ! -d "$OUTPUT_DIR" ] || [ ! -w "$OUTPUT_DIR" ]; then
  fail "cannot write to $OUTPUT_DIR (user $(id -u)). What to do: mount the disk volume read-write there"
fi
WORK=$OUTPUT.fetch
LAYOUT=$WORK/layout

SKOPEO_PID=
TICKER_PID=
SUCCEEDED=

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [ -n "$TICKER_PID" ]; then kill "$TICKER_PID" 2>/dev/null; fi
  if [ -n "$SKOPEO_PID" ]; then kill "$SKOPEO_PID" 2>/dev/null; wait "$SKOPEO_PID" 2>/dev/null; fi
  rm -rf "$WORK"
  [ -n "$SUCCEEDED" ] || rm -f "$OUTPUT"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -rf "$WORK" "$OUTPUT"
mkdir -p "$WORK/tmp" || fail "cannot create the work directory $WORK (volume full or read-only?)"

# ---------------------------------------------------------------------------------------------
# JSON, without jq

# Flattens JSON into one "path=value" line per scalar: .layers[0].digest=sha256:...
# Strings keep their escapes; whitespace and line breaks anywhere are fine. With strict=1 (the
# manifest) it refuses what the OCI image manifest schema does not have, so that no key can look
# like a path to this reader while the runtime's JSON parser ignores it: keys outside the schema
# (a key "layers[9].digest", or "Layers", which Go's case-insensitive decoder would take for
# "layers"), duplicate keys (Go takes the last one), escapes in keys, control characters in
# strings; annotations are checked to be strings and not printed.
# shellcheck disable=SC2016 # an awk program, not shell
JSON_FLATTEN='
function skip() { while (pos <= n && index(" \t\r\n", substr(text, pos, 1)) > 0) pos++ }
function jstring(   out, c) {
  pos++
  out = ""
  while (pos <= n) {
    c = substr(text, pos, 1)
    if (c == "\\") { out = out substr(text, pos, 2); pos += 2; continue }
    if (c == "\"") { pos++; return out }
    if (index("\n\r\t", c) > 0) { bad = 1; return out }
    out = out c
    pos++
  }
  bad = 1
  return out
}
# Whether the schema allows key k in the object at path p (strict mode only).
function allowed(p, k) {
  if (p == "") return k ~ /^(schemaVersion|mediaType|config|layers|annotations|subject|artifactType)$/
  if (p == ".config" || p == ".subject" || p ~ /^\.layers\[[0-9]+\]$/) return k ~ /^(mediaType|digest|size|annotations|urls|data|artifactType)$/
  return p ~ /\.annotations$/
}
function jvalue(path,   c, key, i, start, quiet) {
  skip()
  quiet = strict && path ~ /\.annotations(\.|$)/
  c = substr(text, pos, 1)
  if (c == "{") {
    pos++
    skip()
    if (substr(text, pos, 1) == "}") { pos++; return }
    while (!bad) {
      skip()
      if (substr(text, pos, 1) != "\"") { bad = 1; return }
      key = jstring()
      if (strict && (index(key, "\\") > 0 || !allowed(path, key) || (path "." key) in seen)) { bad = 1; return }
      seen[path "." key] = 1
      skip()
      if (substr(text, pos, 1) != ":") { bad = 1; return }
      pos++
      jvalue(path "." key)
      skip()
      c = substr(text, pos, 1)
      pos++
      if (c == "}") return
      if (c != ",") { bad = 1; return }
    }
    return
  }
  if (quiet && (c == "[" || path ~ /\.annotations$/)) { bad = 1; return }
  if (c == "[") {
    pos++
    skip()
    if (substr(text, pos, 1) == "]") { pos++; return }
    for (i = 0; !bad; i++) {
      jvalue(path "[" i "]")
      skip()
      c = substr(text, pos, 1)
      pos++
      if (c == "]") return
      if (c != ",") { bad = 1; return }
    }
    return
  }
  if (c == "\"") { c = jstring(); if (!quiet) print path "=" c; return }
  if (quiet) { bad = 1; return }
  start = pos
  while (pos <= n && index(",}] \t\r\n", substr(text, pos, 1)) == 0) pos++
  if (pos == start) { bad = 1; return }
  print path "=" substr(text, start, pos - start)
}
{ text = text $0 "\n" }
END {
  n = length(text)
  pos = 1
  bad = 0
  jvalue("")
  skip()
  if (bad || pos <= n) exit 1
}'

# Flattens the JSON file $1 into $2 (strictly when $4 is 1), or fails naming what it was.
flatten() {
  if ! awk -v strict="${4:-0}" "$JSON_FLATTEN" "$1" > "$2" 2>/dev/null; then
    [ "${4:-0}" = 1 ] && fail "pulled $REF, but its $3 is not an OCI image manifest this reader accepts (invalid JSON, a key outside the OCI schema, a duplicate key or an escaped key), so it was refused. What to do: push the snapshot image with a standard tool (docker, buildah, skopeo); see skopeo inspect --raw docker://$REF"
    fail "pulled $REF, but its $3 ($1) is not valid JSON. What to do: check that the reference names a container image"
  fi
}

# The value at path $2 in the flattened file $1 (the first, if several).
json_value() { sed -n "s/^$2=//p" "$1" | head -n 1; }

# The blob file of a digest in the layout, or fails.
blob_of() {
  case $1 in
    sha256:* | sha512:*) ;;
    *) fail "pulled $REF, but its $2 names an unsupported digest '$1'. What to do: publish the image with sha256 digests" ;;
  esac
  hex=${1#*:}
  case $hex in '' | *[!0-9a-f]*) fail "pulled $REF, but its $2 has a malformed digest '$1'" ;; esac
  blob="$LAYOUT/blobs/${1%%:*}/$hex"
  [ -f "$blob" ] || fail "pulled $REF, but its $2 $1 is not in the downloaded layout. What to do: retry; if it persists, report it with the output of skopeo inspect --raw docker://$REF"
  printf '%s\n' "$blob"
}

# ---------------------------------------------------------------------------------------------
# 1. Pull

# Tells apart why skopeo failed, from its error output $1 (whether credentials were given in $2).
# Free KiB on the output's volume, or empty.
free_kib() { df -Pk "$OUTPUT_DIR" 2>/dev/null | awk 'NR == 2 { print $4 }'; }

pull_volume_full() {
  fail "$tried: the disk volume is full: $(free_kib) KiB free in $OUTPUT_DIR after $(du -sk "$WORK" 2>/dev/null | cut -f1) KiB were downloaded ($1). What to do: make the disk volume larger: it needs room for the downloaded layer and the extracted disk at once"
}

explain_pull_failure() {
  message=$(sed -n 's/.*level=fatal msg="\(.*\)"[[:space:]]*$/\1/p' "$1" | tail -n 1)
  [ -n "$message" ] || message=$(grep -v '^[[:space:]]*$' "$1" | tail -n 3)
  message=$(one_line "$(printf '%s' "$message" | sed 's/\\"/"/g; s/\\[nt]/ /g')")
  tried="pulling $REF from $REGISTRY with skopeo"
  case $message in
    *"Digest did not match"* | *"digest did not match"* | *"does not match digest"* | *"Manifest does not match"* | *"manifest digest"*"does not match"*)
      fail "$tried: the download does not match its digest, so it was refused ($message). What to do: the registry's copy is damaged or was replaced: push the snapshot image again; if the reference is pinned by digest, check the digest" ;;
    *"manifest unknown"* | *"name unknown"* | *"MANIFEST_UNKNOWN"* | *"NAME_UNKNOWN"* | *"not found"*)
      fail "$tried: the registry has no such image (unknown repository, tag or digest: $message). What to do: check the snapshot reference (skopeo list-tags docker://$REPOSITORY lists the tags), or push the snapshot image" ;;
    *"permission denied"* | *"read-only file system"*)
      fail "$tried: cannot write to the disk volume ($message). What to do: mount the disk volume read-write and give the pod an fsGroup that owns it" ;;
    *"unauthorized"* | *"authentication required"* | *"denied:"* | *"access to the resource is denied"* | *"401 Unauthorized"* | *"403 Forbidden"*)
      if [ -n "$2" ]; then
        fail "$tried: the registry refused the credentials in $AUTH_FILE ($message). What to do: check the user, token and registry host in the Secret named by the registry client's authSecret, and that they may pull this repository"
      fi
      fail "$tried: the registry requires credentials and none were given ($message). What to do: create a kubernetes.io/dockerconfigjson Secret for $REGISTRY and name it in the registry client's authSecret (or check the repository name: some registries answer unauthorized for a repository that does not exist)" ;;
    *"server gave HTTP response to HTTPS client"*)
      fail "$tried: the registry speaks plain HTTP ($message). What to do: serve it over TLS, or, for a registry on a trusted private network, set the registry client's tlsVerify to false" ;;
    *x509* | *certificate*)
      fail "$tried: the registry's TLS certificate is not trusted ($message). What to do: give the seeder image the registry's CA certificate, or, for a registry on a trusted private network, set the registry client's tlsVerify to false" ;;
    *"no space left on device"*) pull_volume_full "$message" ;;
    *"connection refused"* | *"no such host"* | *"i/o timeout"* | *"network is unreachable"* | *"no route to host"* | *"dial tcp"* | *"TLS handshake timeout"* | *"server misbehaving"* | *"connection reset"* | *"EOF"*)
      fail "$tried: the registry cannot be reached ($message). What to do: check the registry host in the snapshot reference and that the pod's network (DNS, egress rules, proxy) reaches it; a later source (the built-in image) is tried when configured" ;;
    *"trust policy"* | *"policy.json"* | *"Source image rejected"*)
      fail "$tried: the containers signature policy refused the image ($message). What to do: check /etc/containers/policy.json in the seeder image" ;;
  esac
  # A full volume can also swallow skopeo's own error output (it is written there).
  free=$(free_kib)
  case $free in '' | *[!0-9]*) ;; *) [ "$free" -ge 1024 ] || pull_volume_full "${message:-the error output of skopeo was lost}" ;; esac
  fail "$tried failed: ${message:-skopeo printed nothing}. What to do: check the snapshot reference and the registry; run skopeo inspect docker://$REF from a machine that reaches the registry"
}

# shellcheck disable=SC2317 # runs in the background while skopeo downloads
progress_ticker() {
  tick_sleep=
  trap 'kill "$tick_sleep" 2>/dev/null; exit 0' TERM
  ticks=0
  while :; do
    # sleep in the background and wait: a TERM ends the ticker at once, not after the sleep.
    sleep 1 >/dev/null 2>&1 &
    tick_sleep=$!
    wait "$tick_sleep"
    ticks=$((ticks + 1))
    if [ $((ticks % PROGRESS_INTERVAL)) -eq 0 ]; then
      kib=$(du -sk "$WORK" 2>/dev/null | cut -f1)
      log "downloading $REF: $((${kib:-0} / 1024)) MiB after $ticks s"
    fi
  done
}

set --
if [ "$TLS_VERIFY" = false ]; then set -- "$@" --src-tls-verify=false; fi
if [ -n "$AUTH_FILE" ]; then set -- "$@" --authfile "$AUTH_FILE"; fi
# An uncompressed layer stays uncompressed: the oci transport would otherwise gzip it on the way
# in, only for it to be decompressed again (skopeo 1.6 and later have the flag).
if "$SKOPEO" copy --help 2>/dev/null | grep -q -e '--dest-oci-accept-uncompressed-layers'; then
  set -- "$@" --dest-oci-accept-uncompressed-layers
fi
# skopeo refuses to run without a signature policy; an image that ships none gets the policy
# every distribution ships by default (integrity comes from the digests skopeo checks).
if [ ! -f "${HOME:-/nonexistent}/.config/containers/policy.json" ] && [ ! -f /etc/containers/policy.json ]; then
  printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' > "$WORK/policy.json"
  set -- "$@" --policy "$WORK/policy.json"
fi

log "pulling $REF"
pull_started=$(date +%s)
TMPDIR=$WORK/tmp "$SKOPEO" copy --quiet "$@" "docker://$REF" "oci:$LAYOUT:snapshot" > "$WORK/skopeo.out" 2> "$WORK/skopeo.err" &
SKOPEO_PID=$!
progress_ticker &
TICKER_PID=$!
wait "$SKOPEO_PID"
pull_status=$?
SKOPEO_PID=
kill "$TICKER_PID" 2>/dev/null
wait "$TICKER_PID" 2>/dev/null
TICKER_PID=
if [ "$pull_status" -ne 0 ]; then
  explain_pull_failure "$WORK/skopeo.err" "$AUTH_FILE"
fi

# ---------------------------------------------------------------------------------------------
# 2. Manifest and layers

flatten "$LAYOUT/index.json" "$WORK/index.flat" "layout index"
manifest_digest=$(json_value "$WORK/index.flat" '\.manifests\[0\]\.digest')
[ -n "$manifest_digest" ] || fail "pulled $REF, but the layout's index.json names no manifest. What to do: retry; report it with the output of skopeo inspect --raw docker://$REF"
manifest_blob=$(blob_of "$manifest_digest" manifest) || exit 1
flatten "$manifest_blob" "$WORK/manifest.flat" manifest
if grep -q '^\.manifests\[' "$WORK/manifest.flat"; then
  fail "pulled $REF, but it is an image index, not an image. What to do: reference one image of the index by its digest"
fi
flatten "$manifest_blob" "$WORK/manifest.flat" manifest 1
manifest_type=$(json_value "$WORK/manifest.flat" '\.mediaType')
config_type=$(json_value "$WORK/manifest.flat" '\.config\.mediaType')
if [ "$(json_value "$WORK/manifest.flat" '\.schemaVersion')" != 2 ] \
  || { [ -n "$manifest_type" ] && [ "$manifest_type" != application/vnd.oci.image.manifest.v1+json ]; } \
  || [ "$config_type" != application/vnd.oci.image.config.v1+json ]; then
  fail "pulled $REF, but its manifest is not an OCI image manifest (schemaVersion, mediaType ${manifest_type:-none}, config ${config_type:-none}), so it was refused. What to do: push the snapshot image as a container image (docker, buildah, skopeo)"
fi
layer_count=$(grep -c '^\.layers\[[0-9]*\]\.digest=' "$WORK/manifest.flat")
[ "$layer_count" -gt 0 ] || fail "pulled $REF, but the image has no layers, so no $SNAPSHOT_PATH. What to do: build the snapshot image with the qcow2 at $SNAPSHOT_PATH (FROM scratch, COPY snapshot.qcow2 /snapshot.qcow2)"
# Top layer first; every index 0..count-1 has its digest and media type (the strict reader
# refused anything else in a layer).
i=$layer_count
: > "$WORK/layers"
while [ "$i" -gt 0 ]; do
  i=$((i - 1))
  digest=$(json_value "$WORK/manifest.flat" "\\.layers\\[$i\\]\\.digest")
  type=$(json_value "$WORK/manifest.flat" "\\.layers\\[$i\\]\\.mediaType")
  if [ -z "$digest" ] || [ -z "$type" ]; then fail "pulled $REF, but layer $i of its manifest has no digest or media type, so it was refused"; fi
  printf '%s %s %s\n' "$i" "$digest" "$type" >> "$WORK/layers"
done
log "pulled $REF (manifest $manifest_digest, $layer_count layer(s)) in $(($(date +%s) - pull_started)) s; pin it with $REPOSITORY@$manifest_digest"

# ---------------------------------------------------------------------------------------------
# 3. Find the file as a container runtime sees it, and extract only its bytes

# The decompressor of a layer, from its media type, as the runtime decides: a plain tar labelled
# compressed is read as plain, a compressed blob labelled plain tar is refused (umoci fails on it).
# Sets DECOMPRESS (a command, or empty for plain tar) and COMPRESSION.
layer_decompressor() {
  magic=$(od -An -N4 -tx1 "$1" 2>/dev/null | tr -d ' \n')
  case $magic in 1f8b*) sniffed=gzip ;; 28b52ffd) sniffed=zstd ;; *) sniffed="plain tar" ;; esac
  case $2 in
    application/vnd.oci.image.layer.v1.tar) COMPRESSION="plain tar"; DECOMPRESS= ;;
    application/vnd.oci.image.layer.v1.tar+gzip) COMPRESSION=gzip; DECOMPRESS="gzip -dc" ;;
    application/vnd.oci.image.layer.v1.tar+zstd)
      command -v zstd >/dev/null 2>&1 || fail "$REF: layer $3 is zstd-compressed and this image has no zstd. What to do: push the snapshot image with gzip layers (the default of docker and buildah), or use the kubelet-pull method"
      COMPRESSION=zstd; DECOMPRESS="zstd -dc" ;;
    *) fail "$REF: layer $3 has the media type '$2', which is not an OCI layer (tar, tar+gzip, tar+zstd), so the image was refused. What to do: push the snapshot image with a standard tool (docker, buildah, skopeo)" ;;
  esac
  # A layer labelled compressed that is a plain tar is what the runtime unpacks all the same
  # (skopeo and containerd look at the bytes); the other way round, it fails (umoci).
  if [ "$sniffed" = "plain tar" ] && [ "$COMPRESSION" != "plain tar" ]; then COMPRESSION="plain tar"; DECOMPRESS=; fi
  [ "$sniffed" = "$COMPRESSION" ] || fail "$REF: layer $3 is $sniffed but its media type $2 says $COMPRESSION, so a container runtime cannot unpack it and the image was refused. What to do: push the snapshot image again with a standard tool"
}

# The layer blob $1 as a tar stream on stdout.
layer_stream() { if [ -n "$DECOMPRESS" ]; then $DECOMPRESS < "$1"; else cat "$1"; fi; }

# Reads a `tar -tv` listing (and tar's stderr lines, prefixed "E ") and says, in one line, what
# this layer does to the file `member`, with the runtime's rules (umoci, containerd): names are
# cleaned as paths under / (../ and / cannot leave the image); the last entry of a name wins;
# whiteouts (.wh.NAME, .wh..wh..opq) hide only what lower layers hold, of the file or a directory
# above it. One of:
#   found RAW SIZE SKIP  a regular file: tar name RAW, SIZE bytes, after SKIP bytes of earlier
#                        regular entries of the same name (tar -O writes them all)
#   refuse REASON        a link, device or directory; a path component replaced by a link or
#                        file; a hard link to the file; a name this tar cannot map; tar errors
#   deleted HOW          a whiteout hides it
#   none                 the layer says nothing about it
# shellcheck disable=SC2016 # an awk program, not shell
LAYER_VERDICT='
function clean(p,   parts, k, i, sp, out) {
  k = split(p, parts, "/"); sp = 0
  for (i = 1; i <= k; i++) {
    if (parts[i] == "" || parts[i] == ".") continue
    if (parts[i] == "..") { if (sp > 0) sp--; continue }
    stack[++sp] = parts[i]
  }
  out = ""
  for (i = 1; i <= sp; i++) out = out (i > 1 ? "/" : "") stack[i]
  return out
}
function under(dir) { return dir == "" || index(member "/", dir "/") == 1 && dir != member }
/^E / {
  msg = substr($0, 3)
  if (tolower(msg) ~ /removing leading .* from hard link targets/) next
  if (tolower(msg) ~ /removing leading .* from member names/) {
    prefix = substr(msg, index(msg, "eading ") + 8)
    prefix = substr(prefix, 1, index(prefix, " from member names") - 2)
    # busybox lists names already stripped up to the last "../": fine when what it strips holds
    # only "/", "./" and "../", not when it drops real directories (a/b/../c is a/c, not c).
    if (clean("/" prefix "x") != "x") unsafe = prefix
    next
  }
  if (msg != "") errors = errors " " msg
  next
}
{
  type = substr($0, 1, 1)
  rest = $0
  if (!sub(/^[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ /, "", rest)) { errors = errors " unreadable listing line"; next }
  split($0, field, " ")
  target = ""
  if (type == "l" || type == "h" || index(rest, " -> ") > 0 || (type == "h" && index(rest, " link to ") > 0)) {
    kind = type == "l" ? "a symbolic link" : "a hard link"
    if (match(rest, / -> /) || match(rest, / link to /)) { target = substr(rest, RSTART + RLENGTH); rest = substr(rest, 1, RSTART - 1) }
  } else if (type == "-" || type == "0") kind = "file"
  else if (type == "d") kind = "a directory"
  else kind = "a device or special file (" type ")"
  desc = kind (target != "" ? " (to " target ")" : "")
  name = clean(rest)
  if (kind == "a hard link" && clean(target) == member) linked = name
  if (name == member) {
    last = desc
    if (kind == "file") {
      if (raw != "" && raw != rest) spellings = 1
      if (raw == rest) skipped += size
      raw = rest; size = field[3]; regulars++
    }
    next
  }
  if (under(name) && kind != "a directory") ancestor = "/" name " is " (kind == "file" ? "a file" : desc)
  base = name; dir = ""
  if (match(name, /.*\//)) { dir = substr(name, 1, RLENGTH - 1); base = substr(name, RLENGTH + 1) }
  if (base == ".wh..wh..opq") { if (under(dir)) deleted = "opaque whiteout " name " hides the lower contents of /" dir }
  else if (substr(base, 1, 4) == ".wh.") {
    gone = (dir == "" ? "" : dir "/") substr(base, 5)
    if (gone == member || under(gone)) deleted = "whiteout " name " removes /" gone
  }
}
END {
  if (errors != "") { print "refuse tar could not read the layer:" errors; exit }
  if (unsafe != "") { print "refuse it has member names that climb out of a directory and back (" unsafe "...), which tar and the runtime read differently"; exit }
  if (linked != "") { print "refuse /" linked " is a hard link to it (a file with two names)"; exit }
  if (last != "" && last != "file") { print "refuse it is " last ", not a regular file"; exit }
  if (last == "file") {
    if (spellings && regulars > 1) { print "refuse it is written several times under different names"; exit }
    if (ancestor != "") { print "refuse " ancestor ", in the path of the file"; exit }
    print "found " raw " " size " " (skipped + 0); exit
  }
  if (ancestor != "") { print "refuse " ancestor ", in the path of the file"; exit }
  if (deleted != "") { print "deleted " deleted; exit }
  print "none"
}'

# What layer blob $1 does to the file (see LAYER_VERDICT); tar's stderr joins the listing.
layer_verdict() {
  { { layer_stream "$1" | tar --numeric-owner -tvf - 2>&1 1>&3 3>&-; } 2>&1 | sed 's/^/E /' 1>&3 3>&-; } 3>&1 \
    | LC_ALL=C awk -v member="$MEMBER" "$LAYER_VERDICT"
}

# GNU tar refuses to extract a name with "../" unless told it may (-P): with -O nothing is
# written under the name, only its bytes to stdout. busybox tar lists and matches names stripped.
TAR_NAMES=
if tar --version 2>/dev/null | grep -q GNU; then TAR_NAMES=-P; fi


volume_full() {
  fail "$REF: the disk volume is full: $SNAPSHOT_PATH in layer $layer_digest is $1 bytes, $2 KiB were free in $OUTPUT_DIR$3. What to do: make the disk volume larger: it needs room for the downloaded layer ($(stat -c %s "$layer_blob") bytes) and the extracted disk at once"
}

# Writes the bytes of tar entry $2 ($3 bytes after $4 bytes of earlier entries of that name) of
# layer $1 to $WORK/extracted; the error lines are kept in memory, not on the (maybe full) volume.
extract_entry() {
  free=$(free_kib)
  case $free in '' | *[!0-9]*) ;; *) [ $(( ($3 + $4 + 1023) / 1024 )) -le "$free" ] || volume_full "$3" "$free" "" ;; esac
  errors=$({ layer_stream "$1" | tar $TAR_NAMES -xOf - -- "$2" > "$WORK/extracted"; } 2>&1 | grep -iv 'removing leading' | head -c 2000)
  written=$(stat -c %s "$WORK/extracted" 2>/dev/null || echo 0)
  if [ "$written" != $(($3 + $4)) ]; then
    case $errors in
      *"No space left"* | *"no space left"*) volume_full "$3" "$(free_kib)" " (extraction stopped after $written bytes)" ;;
    esac
    fail "$REF: could not extract $SNAPSHOT_PATH from layer $layer_digest: $written of $(($3 + $4)) bytes written ($(one_line "${errors:-no error message}")). What to do: check the snapshot image's layers (skopeo inspect docker://$REF)"
  fi
  if [ "$4" -gt 0 ]; then
    # Only the last entry of the name counts, as in the runtime.
    if ! tail -c "+$(($4 + 1))" "$WORK/extracted" > "$WORK/extracted.last"; then
      volume_full "$3" "$(free_kib)" " (keeping the last of several entries of the name)"
    fi
    mv -f "$WORK/extracted.last" "$WORK/extracted"
  fi
}

found=
# Digests already listed with nothing about the file: a layer the manifest repeats is one blob
# (skopeo checked its digest) and, once its media type passed, one stream; it is not listed again.
listed_none=' '
while read -r layer_index layer_digest layer_type; do
  layer_blob=$(blob_of "$layer_digest" "layer $layer_index") || exit 1
  layer_decompressor "$layer_blob" "$layer_type" "$layer_digest"
  case $listed_none in *" $layer_digest "*) continue ;; esac
  verdict=$(layer_verdict "$layer_blob")
  case $verdict in
    "found "*)
      read -r _ entry entry_size entry_skip <<EOF
$verdict
EOF
      extract_entry "$layer_blob" "$entry" "$entry_size" "$entry_skip"
      found=$WORK/extracted
      break ;;
    "deleted "*)
      fail "$REF: layer $layer_digest deletes $SNAPSHOT_PATH, so the image does not have it. How: ${verdict#deleted }. What to do: check the snapshot image's build, or set the snapshot source's path to where its qcow2 is" ;;
    "refuse "*)
      fail "$REF: $SNAPSHOT_PATH in layer $layer_digest is refused: ${verdict#refuse }. What to do: build the snapshot image with the qcow2 itself at $SNAPSHOT_PATH (COPY snapshot.qcow2 $SNAPSHOT_PATH), no links" ;;
    none) listed_none="$listed_none$layer_digest " ;;
    *) fail "$REF: could not read layer $layer_digest (tar listing gave '$(one_line "$verdict")')" ;;
  esac
done < "$WORK/layers"

if [ -z "$found" ]; then
  fail "$REF: none of its $layer_count layer(s) holds $SNAPSHOT_PATH. What to do: check the snapshot image (it must be built with the qcow2 at $SNAPSHOT_PATH, like FROM scratch + COPY snapshot.qcow2 /snapshot.qcow2), or set the snapshot source's path to where its qcow2 is"
fi
size=$(stat -c %s "$found")
# Same volume: a rename, not a copy.
mv -f "$found" "$OUTPUT" || fail "cannot move the extracted file to $OUTPUT"
SUCCEEDED=1
log "extracted $SNAPSHOT_PATH ($size bytes) from layer $layer_digest ($COMPRESSION) of $REF in $(($(date +%s) - pull_started)) s"
