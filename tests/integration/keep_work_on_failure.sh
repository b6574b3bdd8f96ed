#!/usr/bin/env bash
# Runs one integration script and removes its work directory when it passes:
# a full `make test` otherwise leaves several GB of replay outputs behind.
# A failing script's directory stays, for the person reading the failure.
# Usage: keep_work_on_failure.sh SCRIPT SENTINEL SOURCE_DIR WORK_DIR
set -uo pipefail
script=$1 work=$4
bash "$script" "${@:2}"
status=$?
if [ "$status" -eq 0 ]; then
  rm -rf "$work"
else
  echo "work directory kept: $work"
fi
exit "$status"
