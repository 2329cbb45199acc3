"""The tamper-evident ledger: canonical JSON entries, a hash chain, an RFC 6962 Merkle tree
and Ed25519-signed checkpoints. See docs/ledger.md for the formats."""
