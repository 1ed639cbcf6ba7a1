"""Shared test factories and the pytest plugin with the common fixtures (users, clients, assets)."""
