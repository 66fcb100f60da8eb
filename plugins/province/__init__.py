"""Province-level practices (Gansu's leader follow-up 领导包抓, …)."""
