"""County-level practices (Kailu's quarterly forum 季协商座谈会, …)."""
