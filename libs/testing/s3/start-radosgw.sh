#!/usr/bin/env bash
# Starts a throw-away Ceph RADOS Gateway for tests and benchmarks: one monitor, one OSD
# keeping objects in memory (memstore) and radosgw, all on 127.0.0.1, authentication off,
# everything below DIR. Prints, as JSON, the S3 endpoint and two access keys of a user made
# for the run: one that may do anything, one that may only read. Stop it with
# stop-radosgw.sh DIR.
#   start-radosgw.sh DIR MON_PORT RGW_PORT
# Needs Debian's ceph-mon, ceph-osd and radosgw (.ci/install-interop-tools installs them).
set -euo pipefail

dir=$1 mon_port=$2 rgw_port=$3
mkdir -p "$dir"/{mon,osd,run,log}
conf=$dir/ceph.conf
fsid=$(cat /proc/sys/kernel/random/uuid)
# With authentication off, clients must not ask for secure mode or they wait for a
# handshake that never comes (until a 300 s timeout).
cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
ms client mode = crc
ms cluster mode = crc
ms service mode = crc
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
keyring = /dev/null
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
osd objectstore = memstore
memstore device bytes = 1073741824
osd data = $dir/osd
mon data = $dir/mon
osd max object name len = 460
osd max object namespace len = 64
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
rgw dns name = 127.0.0.1
CONF

monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >/dev/null
ceph-mon -c "$conf" -i a
osd_uuid=$(cat /proc/sys/kernel/random/uuid)
ceph -c "$conf" osd new "$osd_uuid" >/dev/null
ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >/dev/null 2>&1
ceph-osd -c "$conf" -i 0 2>/dev/null
radosgw -c "$conf" -n client.rgw
key() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
access=$(key 10) secret=$(key 20) ro_access=$(key 10) ro_secret=$(key 20)
radosgw-admin -c "$conf" user create --uid=vitrine --display-name=vitrine \
  --access-key="$access" --secret-key="$secret" >/dev/null
radosgw-admin -c "$conf" subuser create --uid=vitrine --subuser=vitrine:reader --access=read \
  --key-type=s3 --access-key="$ro_access" --secret-key="$ro_secret" >/dev/null
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$rgw_port/" && break
  sleep 0.2
done
printf '{"endpoint":"http://127.0.0.1:%s","accessKeyId":"%s","secretAccessKey":"%s","readOnly":{"accessKeyId":"%s","secretAccessKey":"%s"}}\n' \
  "$rgw_port" "$access" "$secret" "$ro_access" "$ro_secret"
