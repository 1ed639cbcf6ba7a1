"""Shared pytest fixtures for every test folder (tests/, inspector/, controlloop/, regression/)."""

pytest_plugins = ["tests.fixtures"]
