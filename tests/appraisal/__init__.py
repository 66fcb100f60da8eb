"""Tests of democratic appraisal (民主评议)."""
