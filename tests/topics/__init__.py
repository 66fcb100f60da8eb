"""Tests of the topics feature (core/topics/), one module per surface."""
