#!/bin/sh
# Makes the federation CA and one certificate per center (server and client use, named
# after the center's compose host) for mutual TLS between centers. Runs once, in an
# openssl image; a real deployment makes them as docs/deployment.md describes.
set -eu
T=/setup/tls
[ -f "$T/done" ] && exit 0
mkdir -p "$T" && cd "$T"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
  -subj "/CN=vitrine compose CA" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout ca-key.pem -out ca.pem
for id in asia europe us; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$id" \
    -addext "subjectAltName=DNS:$id" -addext "extendedKeyUsage=serverAuth,clientAuth" \
    -keyout "$id-key.pem" -out "$id.csr"
  openssl x509 -req -in "$id.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 397 \
    -copy_extensions copy -out "$id.pem"
done
rm -f ca-key.pem ./*.csr
chown -R 10001:10001 /setup
chmod 0600 ./*-key.pem
touch done
