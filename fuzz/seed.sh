#!/usr/bin/env bash
# Generates seed corpora into fuzz/corpus/<target>/ with the project's own tools and openssl.
# The corpora are not committed; run this once before fuzzing.
# SIGNET_BIN=path/to/signet uses that binary instead of building one (`cargo build -p signet`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
C=$ROOT/fuzz/corpus
W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
if [ -n "${SIGNET_BIN:-}" ]; then
  S=$(cd "$(dirname "$SIGNET_BIN")" && pwd)/$(basename "$SIGNET_BIN")
else
  cargo build -q -p signet
  S=$ROOT/target/debug/signet
fi
mkdir -p "$C"/{pdf_document,cms_signed_data,tsp,ocsp_crl,pkcs12,pem_certs,verify_pdf,verify_appended}
printf 'x\n' > "$W/pw"
PORT=${SEED_PORT:-18790}

for alg in p256 rsa2048; do
  ca=$W/ca-$alg
  "$S" ca init --dir "$ca" --alg $alg --base-url "http://127.0.0.1:$PORT" >/dev/null
  "$S" ca issue --dir "$ca" --name "Alice $alg" --out "$W/alice-$alg.p12" --password-file "$W/pw" >/dev/null
  cp "$W/alice-$alg.p12" "$C/pkcs12/signet-$alg.p12"
  for f in root issuing tsa ocsp; do
    cp "$ca/$f.pem" "$C/pem_certs/$alg-$f.pem"
    openssl x509 -in "$ca/$f.pem" -outform DER -out "$C/pem_certs/$alg-$f.der"
  done
  cat "$ca/root.pem" "$ca/issuing.pem" > "$C/pem_certs/$alg-chain.pem"
  "$S" ca crl --dir "$ca" --out "$C/ocsp_crl/$alg.crl" >/dev/null
done

ca=$W/ca-p256
# Key and certificates out of the PKCS#12 (also seeds for pem_certs and pkcs12).
openssl pkcs12 -in "$W/alice-p256.p12" -passin pass:x -nodes -out "$W/alice.pem" 2>/dev/null
openssl pkcs12 -in "$W/alice-p256.p12" -passin pass:x -nokeys -clcerts -out "$W/alice-cert.pem" 2>/dev/null
openssl pkcs12 -in "$W/alice-p256.p12" -passin pass:x -nocerts -nodes -out "$W/alice-key.pem" 2>/dev/null
cp "$W/alice.pem" "$C/pem_certs/alice-all.pem"
openssl pkcs12 -export -in "$W/alice.pem" -passout pass:x -out "$C/pkcs12/openssl-default.p12"
openssl pkcs12 -export -in "$W/alice.pem" -passout pass:x -nomac -out "$C/pkcs12/openssl-nomac.p12"
# Unencrypted and without a MAC: lets the fuzzer reach the bag parsing past the crypto.
openssl pkcs12 -export -in "$W/alice.pem" -passout pass:x -nomac -keypbe NONE -certpbe NONE -out "$C/pkcs12/openssl-plain.p12"

# PDFs: sample, then signed at every level, visible, certified.
"$S" sample-pdf -o "$W/a.pdf" --pages 2 >/dev/null
"$S" sample-seal -o "$W/seal.png" >/dev/null 2>&1 || true
cp "$W/a.pdf" "$C/pdf_document/sample.pdf"
[ -f "$W/seal.png" ] && cp "$W/seal.png" "$C/pdf_document/seal.png"
sign() { "$S" sign "$W/a.pdf" --p12 "$W/alice-p256.p12" --password-file "$W/pw" --tsa-dir "$ca" "$@" >/dev/null; }
sign -o "$W/bb.pdf" --level B-B
sign -o "$W/bt.pdf" --level B-T --reason Approve --location Here
sign -o "$W/blta.pdf" --level B-LTA --certify 2 --add-field Bob,1,300,100,500,160
sign -o "$W/vis.pdf" --level B-T --page 1 --rect 50,50,250,150 --text Alice \
  $( [ -f "$W/seal.png" ] && echo --image "$W/seal.png" ) 2>/dev/null || true
"$S" sign "$W/blta.pdf" -o "$W/two.pdf" --p12 "$W/alice-rsa2048.p12" --password-file "$W/pw" \
  --tsa-dir "$W/ca-rsa2048" --field Bob --level B-LT >/dev/null
for f in bb bt blta vis two; do [ -f "$W/$f.pdf" ] && cp "$W/$f.pdf" "$C/pdf_document/signet-$f.pdf"; done
find crates/signet/tests/data/corpora -name '*.pdf' -size -2M -exec cp {} "$C/pdf_document/" \; 2>/dev/null || true

# verify_pdf: the signet PDFs above, the validation corpus (pyHanko, EU DSS; files over 300 KB left out
# to keep inputs short) and the PDF-attack fixtures with their honest counterparts.
cp "$C"/pdf_document/sample.pdf "$C"/pdf_document/signet-*.pdf "$C/verify_pdf/"
find crates/signet/tests/data/corpora -name '*.pdf' -size -300k -exec cp {} "$C/verify_pdf/" \;
# A failing generator (e.g. a signet that refuses to sign one of the attacks) leaves the fixtures
# written before the failure; those are kept.
python3 tests/attacks/make_attacks.py --signet "$S" --out "$W/attacks" >/dev/null ||
  echo "make_attacks.py failed; keeping the fixtures it wrote" >&2
cp "$W"/attacks/*.pdf "$C/verify_pdf/" 2>/dev/null || true
# verify_appended: incremental updates for fuzz/assets/honest-approval.pdf (committed, as the
# signed tails only fit the committed base; `fuzz/appended_seeds.py` writes them).
cp fuzz/seeds/verify_appended/* "$C/verify_appended/"

# CMS SignedData and time-stamp tokens out of the signed PDFs' /Contents.
python3 - "$W" "$C" <<'PY'
import re, sys, pathlib
w, c = map(pathlib.Path, sys.argv[1:])
n = 0
for pdf in sorted(w.glob("*.pdf")):
    data = pdf.read_bytes()
    for m in re.finditer(rb"/Contents\s*<([0-9A-Fa-f]{200,})>", data):
        der = bytes.fromhex(m.group(1).decode()).rstrip(b"\0")
        kind = "tsp" if b"/DocTimeStamp" in data[max(0, m.start()-400):m.end()+400] else "cms_signed_data"
        (c / kind / f"{pdf.stem}-{n}.der").write_bytes(der)
        (c / "cms_signed_data" / f"{pdf.stem}-{n}.der").write_bytes(der)
        n += 1
PY

# openssl CMS: attached, detached, RSA-PSS-free PKCS#7.
echo "hello" > "$W/msg"
openssl cms -sign -binary -in "$W/msg" -signer "$W/alice-cert.pem" -inkey "$W/alice-key.pem" -outform DER -out "$C/cms_signed_data/openssl-detached.der"
openssl cms -sign -binary -nodetach -in "$W/msg" -signer "$W/alice-cert.pem" -inkey "$W/alice-key.pem" -outform DER -out "$C/cms_signed_data/openssl-attached.der"
openssl cms -sign -binary -noattr -in "$W/msg" -signer "$W/alice-cert.pem" -inkey "$W/alice-key.pem" -outform DER -out "$C/cms_signed_data/openssl-noattr.der"

# RFC 3161 requests (openssl) and responses (signet tsa serve on loopback); OCSP from signet ca serve.
openssl ts -query -data "$W/msg" -sha256 -cert -out "$C/tsp/req-cert.tsq" 2>/dev/null
openssl ts -query -data "$W/msg" -sha256 -no_nonce -out "$C/tsp/req-nononce.tsq" 2>/dev/null
"$S" ca serve --dir "$ca" --addr "127.0.0.1:$PORT" >/dev/null 2>&1 &
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.2; done
for q in req-cert req-nononce; do
  curl -sf -H 'Content-Type: application/timestamp-query' --data-binary @"$C/tsp/$q.tsq" \
    "http://127.0.0.1:$PORT/tsa" -o "$C/tsp/resp-$q.tsr" || true
done
openssl ts -reply -in "$C/tsp/resp-req-cert.tsr" -token_out -out "$C/tsp/token-openssl.der" 2>/dev/null || true
openssl pkcs12 -in "$W/alice-p256.p12" -passin pass:x -nokeys -cacerts -out "$W/cas.pem" 2>/dev/null
openssl x509 -in "$ca/issuing.pem" -out "$W/issuing.pem"
openssl ocsp -issuer "$W/issuing.pem" -cert "$W/alice-cert.pem" -reqout "$C/ocsp_crl/ocsp-req.der" \
  -url "http://127.0.0.1:$PORT/ocsp" -respout "$C/ocsp_crl/ocsp-resp.der" -noverify >/dev/null 2>&1 || true
openssl ocsp -issuer "$W/issuing.pem" -cert "$W/alice-cert.pem" -no_nonce -reqout "$C/ocsp_crl/ocsp-req-nononce.der" \
  -url "http://127.0.0.1:$PORT/ocsp" -respout "$C/ocsp_crl/ocsp-resp-nononce.der" -noverify >/dev/null 2>&1 || true
cp "$C"/ocsp_crl/*.crl "$C/pem_certs/" 2>/dev/null || true
for t in "$C"/*; do echo "$(basename "$t"): $(ls "$t" | wc -l) seeds"; done
