-- What makes a deployment, shared by every server on this database: the CA's certificates
-- and sealed keys, the evidence log's sealed key and verifier key, the sealed code pepper
-- (name: the file's path under the data directory; body: its bytes). Written once, by the
-- first server to start, under an advisory lock; later servers copy them into their data
-- directory, which is then only a cache.
CREATE TABLE deployment_files (
    name TEXT PRIMARY KEY,
    body BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

-- Certificates the platform CA issued (per signing), so that any server's OCSP responder
-- knows them: serial as upper-case hex without leading zeros, the certificate as PEM.
CREATE TABLE ca_certs (
    serial TEXT PRIMARY KEY,
    pem TEXT NOT NULL,
    issued_at BIGINT NOT NULL
);
