"""The test suite: specifications of behaviour, run by ``make test``."""
