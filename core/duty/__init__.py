"""Members' duty records (委员履职档案) and the yearly assessment by plugins' rules (issue 13, items 2 and 3)."""
