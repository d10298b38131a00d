#!/bin/sh
# `npm run bench`: runs every benchmark in bench/ (files named *.bench.ts or *.bench.sh) in turn
# and prints their figures. Benchmarks measure; they never fail on a goal.
set -eu
cd "$(dirname "$0")/.."
for bench in bench/*.bench.ts bench/*.bench.sh; do
  [ -e "$bench" ] || continue
  echo "== $bench"
  case "$bench" in
    *.ts) node -r ts-node/register/transpile-only "$bench" ;;
    *.sh) sh "$bench" ;;
  esac
done
