"""Asset impact: per-version usage, quality and risk of an asset, read from stored traces.

The top of the app graph: impact reads inspector, regression and access;
nothing imports impact. Its admin screen plugs into inspector's AssetAdmin.
"""
