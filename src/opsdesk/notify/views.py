"""Views (agent UI)."""
