"""The admin home: links to the four screens and the day's figures (not a Django app: no models, no migrations).

At the top of the app graph (pyproject.toml's import-linter layers): it reads
traces (inspector), breakers (controlloop) and golden runs (regression), and
nothing imports it but the URLconf.
"""
