"""How much a topic may hold: one set of numbers for what a person enters here and what a neighbour's node
keeps when the topic arrives, so nothing is accepted here that cannot travel (docs/topics.md, "Limits").

Text lengths count characters after surrounding spaces are removed. The envelope as a whole is capped by
the federation (``federation.outbox.MAX_START_BYTES``): a message must leave room for the hops it may
still take.
"""

from __future__ import annotations

from shangliang.federation.hops import MAX_NOTE as HOP_NOTE

TITLE = 300
DESCRIPTION = 20_000
CATEGORY = 100
RAISED_BY_NAME = 200
AREAS = 50  # division codes a topic concerns
ATTACHMENTS = 50  # files named on a topic (their bytes stay where they were attached)
FILE_NAME = 300

#: A hop note (the protocol's 2,000 characters) less the room kept for the node's trailer lines
#: (``stage: …``, ``due_ms: …``) that say what the origin's body cannot.
NOTE = HOP_NOTE - 60

RESULT_KIND = 100
RESULT_TITLE = 300
RESULT_SUMMARY = 20_000
MEASURE = 2_000
MEASURES = 50
HANDLING_UNIT = 200
HANDLING_UNITS = 50
PROGRESS_SUMMARY = HOP_NOTE
