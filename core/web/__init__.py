"""The core web interface: node home page, health check, sign-in, language choice."""
