"""Generators of the known-answer vectors in ``crypto/vectors`` (run ``crypto.make_vectors``).

Nothing here is used by the protocol itself. The generators call the public API under a
deterministic randomness source, and build the deliberately malformed inputs of the failure
vectors by hand.
"""
