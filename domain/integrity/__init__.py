"""Tamper evidence without I/O (防篡改): the stored-event view and leaf layout, the RFC 9162
Merkle tree, the signed-note checkpoint format, the ledger's declared keys and the witness rule."""
