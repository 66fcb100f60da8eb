"""Users: the accounts that sign in to a node, each with one role."""
