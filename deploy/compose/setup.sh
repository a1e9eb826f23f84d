#!/bin/sh
# The runbook of docs/deployment.md on one machine: every key made by the set-up commands
# into the shared setup volume, the manifest signed, and the configs written. Runs once,
# as the image's unprivileged user, after certs.sh.
set -eu
W=/setup
[ -f "$W/done" ] && exit 0
v() { node /app/bin/vitrine.js "$@"; }
v federation init --name compose-tc --out "$W/root"
v access init --url http://access:7400 --out "$W/access"
for c in asia:APAC europe:EU us:US; do
  id=${c%%:*}
  v center init --id "$id" --jurisdiction "${c##*:}" \
    --registry "http://$id:7410" --sync "https://$id:7411" --out "$W/$id"
  v federation add-center --draft "$W/root/federation-draft.json" --center "$W/$id/center-public.json"
done
v operator init --name admin --role operator --role approver --role security \
  --data "$W/operator" --out "$W/operator/admin.json"
v federation sign --draft "$W/root/federation-draft.json" \
  --root-key-file "$W/root/federation-root.key" --access "$W/access/access-public.json" \
  --out "$W/federation-manifest.json" --client "$W/operator/federation.json"
# The centers' access key to their buckets (MinIO's root user in this demo), 0600.
(umask 077 && node -e "process.stdout.write(JSON.stringify({accessKeyId: 'vitrine', secretAccessKey: require('node:fs').readFileSync('/run/secrets/minio-password', 'utf8').trim()}))" >"$W/s3-key.json")
ROOT_KEY=$(node -p "JSON.parse(require('node:fs').readFileSync('$W/root/federation-root.key','utf8')).publicKey")
v config access --access-dir "$W/access" --manifest "$W/federation-manifest.json" \
  --root-key "$ROOT_KEY" --listen 0.0.0.0:7400 --operator "$W/operator/admin.json" \
  --database-url postgres://postgres@postgres:5432/access --out "$W/access.json"
for id in asia europe us; do
  v config center --center-dir "$W/$id" --manifest "$W/federation-manifest.json" \
    --root-key "$ROOT_KEY" --access "$W/access/access-public.json" \
    --registry-listen 0.0.0.0:7410 --sync-listen 0.0.0.0:7411 \
    --tls-cert "$W/tls/$id.pem" --tls-key "$W/tls/$id-key.pem" --tls-ca "$W/tls/ca.pem" \
    --database-url "postgres://postgres@postgres:5432/$id" \
    --s3-endpoint http://objects:9000 --s3-bucket "$id-chunks" --s3-credentials-file "$W/s3-key.json" \
    --out "$W/$id.json"
done
touch "$W/done"
