"""The database side (存储): the recorder and transcoder, positions and the Merkle tree rows,
the log reader, maintained views, key store, checkpoints and proofs."""
