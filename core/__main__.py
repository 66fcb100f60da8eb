"""``python -m shangliang.core``: the ``shangliang`` command line."""

from .cli import main

main()
