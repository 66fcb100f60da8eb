"""Tests of the level plugins (plugins/<level>/)."""
