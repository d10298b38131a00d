#!/bin/sh
# `npm run bench`: runs every benchmark in bench/ (files named *.bench.ts or *.bench.sh) in turn
# and prints their figures. Benchmarks measure; they never fail on a goal.
# `npm run bench -- synth seed` runs only the benchmarks whose file names contain one of the words.
set -eu
cd "$(dirname "$0")/.."
for bench in bench/*.bench.ts bench/*.bench.sh; do
  [ -e "$bench" ] || continue
  if [ $# -gt 0 ]; then
    wanted=
    for word in "$@"; do
      case "$bench" in *"$word"*) wanted=1 ;; esac
    done
    [ -n "$wanted" ] || continue
  fi
  echo "== $bench"
  case "$bench" in
    *.ts) node -r ts-node/register/transpile-only "$bench" ;;
    *.sh) sh "$bench" ;;
  esac
done
