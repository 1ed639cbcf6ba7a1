"""Signals other apps listen to (the inspector app does not import them)."""

from django.dispatch import Signal

# Sent after the transaction that published an asset version commits; kwargs: ``version``.
asset_version_published = Signal()
