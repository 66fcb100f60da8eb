"""The workbench tests use the proposals tests' county: an office user (wang), members li (J001), fang (J002)
and wei (J003), handling units 交通局 (contact chen) and 住建局 (contact zhou), a public user (zhang), admin."""

from ..proposals.conftest import app, client, county  # noqa: F401  (fixtures)
