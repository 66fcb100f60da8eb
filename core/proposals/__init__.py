"""Proposals (提案): from submission to the proposer's satisfaction."""
