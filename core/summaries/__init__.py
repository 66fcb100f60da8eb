"""Subtree summaries (issue 15, part 3): each node's figures sent up to its parent, aggregated level by level."""
