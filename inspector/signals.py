"""Signals other apps listen to (the inspector app does not import them)."""

from django.dispatch import Signal

# Sent inside the transaction that publishes an asset version; kwargs: ``version``.
# Receivers' writes commit or roll back with the publish; a receiver with side
# effects outside the database defers them with transaction.on_commit.
asset_version_published = Signal()
