"""Messaging: ciphertext-only storage, the services that write it, the websocket protocol."""
