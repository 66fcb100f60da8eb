"""Tests of the users feature (core/users/)."""
