"""Topics (协商议题): the six-step closed loop and where each matter belongs."""
