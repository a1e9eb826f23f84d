#!/usr/bin/env bash
# Stops what start-radosgw.sh DIR started (radosgw, then the OSD, then the monitor) and
# removes DIR.
#   stop-radosgw.sh DIR
set -uo pipefail

dir=$1
for name in client.rgw osd.0 mon.a; do
  pid_file=$dir/run/$name.pid
  [[ -f $pid_file ]] || continue
  pid=$(cat "$pid_file")
  kill "$pid" 2>/dev/null || continue
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null
done
rm -rf "$dir"
