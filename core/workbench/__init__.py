"""The workbench: what waits for the signed-in person on this node, and their notification inbox."""
