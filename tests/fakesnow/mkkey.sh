#!/bin/sh
# Generates an unencrypted PKCS#8 RSA-2048 key pair for fakesnow and tpcd tests:
#   DIR/rsa_key.p8   private key, "BEGIN PRIVATE KEY" (PKCS#8, no passphrase), mode 0600
#   DIR/rsa_key.pub  public key, "BEGIN PUBLIC KEY" (SubjectPublicKeyInfo) for --public-key
# and prints the key's Snowflake fingerprint (RSA_PUBLIC_KEY_FP), SHA256:<base64>.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
mkdir -p "$dir"
umask 077	# the private key must never exist with wider permissions, not even briefly
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/rsa_key.p8" 2>/dev/null
chmod 600 "$dir/rsa_key.p8"
openssl pkey -in "$dir/rsa_key.p8" -pubout -out "$dir/rsa_key.pub"
chmod 644 "$dir/rsa_key.pub"
fp=$(openssl pkey -pubin -in "$dir/rsa_key.pub" -outform DER | openssl dgst -sha256 -binary | openssl base64 -A)
echo "SHA256:$fp"
