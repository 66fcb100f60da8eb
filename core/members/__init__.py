"""Members (委员): one identity, three channels — sector, special committee, township group."""
