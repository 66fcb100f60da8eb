"""Tests of the members feature (core/members/)."""
