"""Tests of the federation protocol: canonical JSON, vectors, keys and peers, the inbox over HTTP, delivery."""
