"""Loads the shared test plugin (testkit/plugin.py: users, clients, assets) for every test folder."""

pytest_plugins = ["testkit.plugin"]
