"""Local-practice plugins, one folder per level; each is installed through the ``shangliang.plugins`` entry point."""
