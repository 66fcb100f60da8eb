"""Built-in plugins: the node's own defaults, registered like any plugin and always enabled."""
