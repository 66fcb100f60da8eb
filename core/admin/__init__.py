"""Administration: the index of the administrator's pages, and the pages and API of the node's neighbours (peers
and their health), its outbox and dead letters, and its audit log."""
