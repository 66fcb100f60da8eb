"""Social-opinion reports (社情民意信息): written, edited, compiled into issues, decided, forwarded up the levels."""
