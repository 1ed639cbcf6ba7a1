"""Token authentication that remembers, for a short while, who a token stands for.

Every API request used to pay four queries before its own work: the token and its
user, the user's permissions, its groups' permissions and its tenant memberships
(the largest single cost in the served profile of issue 17). The authenticated
user — with Django's permission caches and the tenant scope already filled — is
kept in Django's cache for ``OPS_TOKEN_CACHE_SECONDS``.

Revocation: every entry carries the *auth generation* it was made in, and any
change to tokens, users, groups, permissions or memberships (``access.apps`` wires
the signals) draws a new generation, so the next request authenticates from the
database again. Where the cache is shared (``CACHE_URL=redis://…``, as
docs/deploy.md requires for several processes) that holds in every process at
once; with per-process memory caches another process may keep an old entry until
its TTL ends. Writes that bypass signals (``QuerySet.update``) are likewise seen
only after the TTL.
"""

from __future__ import annotations

import hashlib
import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from rest_framework.authentication import TokenAuthentication

from access.tenancy import scope_for

log = logging.getLogger(__name__)

GENERATION_KEY = "auth:generation"
# A generation that no entry is made in: a missing generation key (evicted,
# flushed) must not make entries of an earlier generation valid again.
_NO_GENERATION = ""


def _entry_key(token_key: str) -> str:
    # The token is a credential: its hash, never the token, names the entry.
    return "auth:token:" + hashlib.sha256(token_key.encode()).hexdigest()


def new_generation() -> None:
    """Make every cached principal stale (called on any change that affects authentication)."""
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:  # a cache outage must not fail the write that changed a user
        log.warning("could not draw a new auth generation; cached tokens expire by TTL", exc_info=True)


def _current(token_key: str) -> tuple[str, tuple | None]:
    found = cache.get_many([GENERATION_KEY, _entry_key(token_key)])
    generation = found.get(GENERATION_KEY, _NO_GENERATION)
    entry = found.get(_entry_key(token_key))
    if generation == _NO_GENERATION:
        generation = uuid.uuid4().hex
        if not cache.add(GENERATION_KEY, generation, timeout=None):
            generation = cache.get(GENERATION_KEY, _NO_GENERATION)
        return generation, None
    if entry is None or entry[0] != generation:
        return generation, None
    return generation, entry


def _warm(user) -> None:
    """Fill the caches that permission and tenant checks read, so they are pickled with the user."""
    user.get_all_permissions()
    scope_for(user)


class CachedTokenAuthentication(TokenAuthentication):
    """DRF's ``Authorization: Token <key>``, with the principal cached (see the module docstring)."""

    def authenticate_credentials(self, key):
        seconds = settings.OPS_TOKEN_CACHE_SECONDS
        if seconds <= 0:
            return super().authenticate_credentials(key)
        try:
            generation, entry = _current(key)
        except Exception:
            log.warning("token cache unavailable; authenticating from the database", exc_info=True)
            return super().authenticate_credentials(key)
        if entry is not None:
            _, user, token = entry
            return user, token
        user, token = super().authenticate_credentials(key)
        _warm(user)
        try:
            cache.set(_entry_key(key), (generation, user, token), timeout=seconds)
        except Exception:
            log.warning("could not cache a token's principal", exc_info=True)
        return user, token
