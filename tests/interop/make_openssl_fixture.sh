#!/usr/bin/env bash
# Fixture (c) of the interop suite: IN.pdf signed by pyHanko with a CA made by
# openssl, i.e. a signature Signet did not make, from a PKI Signet did not make.
#
#   make_openssl_fixture.sh PYHANKO IN.pdf OUT.pdf WORKDIR
#
# Writes WORKDIR/openssl-root.pem (the trust anchor for OUT.pdf), signer.key,
# signer.pem, signer.p12 (empty password). OUT.pdf has one invisible signature
# in field Sig0 (PAdES B-B). Uses only openssl and the pyHanko CLI.
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 PYHANKO IN.pdf OUT.pdf WORKDIR" >&2; exit 2; }
PYHANKO=$1 IN=$2 OUT=$3 DIR=$4
mkdir -p "$DIR"
cd "$DIR"

cat > ext.cnf <<'CNF'
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[signer]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = email:li.si@example.com
CNF

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out openssl-root.key 2>/dev/null
openssl req -new -x509 -key openssl-root.key -sha256 -days 3650 \
    -subj "/C=CN/O=Interop OpenSSL Test CA/CN=Interop OpenSSL Root" \
    -extensions root -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n'; cat ext.cnf) \
    -out openssl-root.pem

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out signer.key 2>/dev/null
openssl req -new -key signer.key -subj "/C=CN/O=Interop Test/CN=Li Si" -out signer.csr
openssl x509 -req -in signer.csr -CA openssl-root.pem -CAkey openssl-root.key \
    -CAcreateserial -sha256 -days 825 -extfile ext.cnf -extensions signer -out signer.pem 2>/dev/null
openssl pkcs12 -export -inkey signer.key -in signer.pem -certfile openssl-root.pem \
    -name "Li Si" -passout pass: -out signer.p12
openssl verify -CAfile openssl-root.pem signer.pem >/dev/null

: > empty-pass
"$PYHANKO" sign addsig --field Sig0 --reason "interop fixture (c)" \
    pkcs12 --passfile empty-pass "$IN" "$OUT" signer.p12
