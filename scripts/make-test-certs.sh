#!/usr/bin/env bash
# Make throw-away TLS material for the integration tests, with the openssl CLI only.
#
# Usage: scripts/make-test-certs.sh DIR
#
# Writes into DIR (created if missing):
#   ca.pem, ca.key            a test CA ("GPU agent test CA")
#   server.pem, server.key    a server certificate signed by that CA, valid for
#                             127.0.0.1 and localhost (subjectAltName IP and DNS)
#   server-chain.pem          server.pem followed by ca.pem
#   wrong-ca.pem, wrong-ca.key  a second, unrelated CA with the same subject name:
#                             a client that trusts only wrong-ca.pem must refuse the server
#
# ECDSA P-256 keys; the CAs are valid 10 years, the server certificate 825 days.
# Idempotent: when the set exists and still verifies (chain, key match, SAN, not
# expiring within a day, wrong CA really unrelated) nothing is touched, so several
# proxies can share one directory. Otherwise everything is made afresh. A lock
# (flock on DIR/.lock) keeps parallel callers from racing on the same directory.
# Keys are mode 600, certificates 644.
set -euo pipefail

die() { echo "make-test-certs: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 DIR"
command -v openssl >/dev/null || die "openssl missing (scripts/install-deps.sh)"
mkdir -p "$1"
D=$(cd "$1" && pwd)

# Serialise callers that share DIR. flock is in util-linux (always on Debian).
if command -v flock >/dev/null; then
  exec 9>"$D/.lock"
  flock 9
fi

# True when the existing set is complete and usable.
valid() {
  local f
  for f in ca.pem ca.key server.pem server.key server-chain.pem wrong-ca.pem wrong-ca.key; do
    [ -s "$D/$f" ] || return 1
  done
  # the server certificate chains to our CA ...
  openssl verify -CAfile "$D/ca.pem" "$D/server.pem" >/dev/null 2>&1 || return 1
  # ... and not to the wrong one
  if openssl verify -CAfile "$D/wrong-ca.pem" "$D/server.pem" >/dev/null 2>&1; then return 1; fi
  # still valid for at least a day
  openssl x509 -checkend 86400 -noout -in "$D/server.pem" >/dev/null || return 1
  # the key belongs to the certificate
  [ "$(openssl x509 -noout -pubkey -in "$D/server.pem")" = "$(openssl pkey -pubout -in "$D/server.key" 2>/dev/null)" ] \
    || return 1
  # the names the tests rely on
  openssl x509 -noout -checkip 127.0.0.1 -in "$D/server.pem" | grep -q 'does match' || return 1
  openssl x509 -noout -checkhost localhost -in "$D/server.pem" | grep -q 'does match' || return 1
}
if valid; then exit 0; fi

# Build the new set in a scratch directory, then move it into place.
T=$(mktemp -d "$D/.new.XXXXXX")
trap 'rm -rf "$T"' EXIT
umask 077

# make_ca NAME SUBJECT: a self-signed CA certificate NAME.pem with key NAME.key
make_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/$1.key" -out "$T/$1.pem" -days 3650 -sha256 -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>"$T/openssl.log" \
    || { cat "$T/openssl.log" >&2; die "cannot create CA $1"; }
}
make_ca ca "/CN=GPU agent test CA"
# Same subject on purpose: only the signature tells the two CAs apart.
make_ca wrong-ca "/CN=GPU agent test CA"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$T/server.key" -out "$T/server.csr" -subj "/CN=127.0.0.1" 2>"$T/openssl.log" \
  || { cat "$T/openssl.log" >&2; die "cannot create the server key"; }
cat > "$T/server.ext" <<'EOF'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier = keyid
EOF
openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
  -days 825 -sha256 -extfile "$T/server.ext" -out "$T/server.pem" 2>"$T/openssl.log" \
  || { cat "$T/openssl.log" >&2; die "cannot sign the server certificate"; }
cat "$T/server.pem" "$T/ca.pem" > "$T/server-chain.pem"
chmod 644 "$T/ca.pem" "$T/wrong-ca.pem" "$T/server.pem" "$T/server-chain.pem"
chmod 600 "$T/ca.key" "$T/wrong-ca.key" "$T/server.key"

for f in ca.key ca.pem wrong-ca.key wrong-ca.pem server.key server.pem server-chain.pem; do
  mv -f "$T/$f" "$D/$f"
done
valid || die "the new certificates in $D do not verify"
