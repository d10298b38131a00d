#!/bin/sh
# pre-stop.sh: the emulator container's preStop hook.
#
# A SIGKILL of QEMU mid-write can leave qcow2 metadata inconsistent, so before Kubernetes stops the
# container this asks the guest to power down through QEMU's QMP socket and waits; if the guest
# does not react in time, it asks QEMU to quit, which flushes the image cleanly. The pod's
# terminationGracePeriodSeconds must cover both waits.
# Any missing piece (no socket, no client) is not an error: the container then stops as usual.

QMP_SOCKET=${QMP_SOCKET:-/tmp/qemu-qmp.sock}
POWERDOWN_WAIT_SECONDS=${POWERDOWN_WAIT_SECONDS:-60}

[ -S "$QMP_SOCKET" ] || exit 0

qmp() {
  message="{\"execute\":\"qmp_capabilities\"}{\"execute\":\"$1\"}"
  if command -v socat >/dev/null 2>&1; then
    printf '%s\n' "$message" | socat - "UNIX-CONNECT:$QMP_SOCKET" >/dev/null 2>&1
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.recv(4096); s.sendall(sys.argv[2].encode()); s.recv(4096)' \
      "$QMP_SOCKET" "$message" >/dev/null 2>&1
  else
    printf '%s\n' "$message" | nc -U -q 1 "$QMP_SOCKET" >/dev/null 2>&1
  fi
}

qemu_running() { pgrep -f qemu-system >/dev/null 2>&1; }

qmp system_powerdown
waited=0
while qemu_running && [ "$waited" -lt "$POWERDOWN_WAIT_SECONDS" ]; do
  sleep 1
  waited=$((waited + 1))
done
if qemu_running; then
  qmp quit
fi
exit 0
