"""Tests of the annual consultation plans feature."""
