"""One parsed service model and one client class per service, for every account's clients.

botocore builds both anew for each client: a `ServiceModel` over the loader's (cached) JSON,
whose error-shape table is built again on each client's first modelled error reply (a group
without a policy), and a client class of one method per operation (~400 for SageMaker). A
scan of 1,000 accounts × 2 regions made 2,000 of each: about a quarter of its CPU time and
~90 MB. Both are pure functions of what they are built from, so the clients of the
accounts that share the base session's loader and event hooks (`ClientFactory.for_account`)
share them.

botocore has no public hook for this; its `ClientCreator` is given the memo around the two
methods that build them. Only event hooks handed to `share` are memoised (a session of
someone else's in the same process is left as botocore makes it), and a botocore without
those methods is left alone (each client is then built in full, as before).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from botocore.client import ClientCreator

_lock = threading.Lock()
_shared_hooks: weakref.WeakSet[Any] = weakref.WeakSet()
# Held as long as the loader they were made with (a base session's, shared by its
# accounts'): a service (`mpscan schedule`) makes a base session per scan and keeps none.
# Not by the event hooks: a client class refers to them (its methods' docstrings do).
_models: weakref.WeakKeyDictionary[Any, dict[tuple, Any]] = weakref.WeakKeyDictionary()
_classes: weakref.WeakKeyDictionary[Any, dict[tuple, type]] = weakref.WeakKeyDictionary()


def share(event_hooks: Any) -> None:
    """Clients made with these event hooks (a session's `event_emitter`, or a session's
    made on them) share their service models and client classes."""
    _install()
    _shared_hooks.add(_unwrapped(event_hooks))


def _unwrapped(emitter: Any) -> Any:
    while hasattr(emitter, "_emitter"):  # a botocore.hooks.EventAliaser (of an EventAliaser)
        emitter = emitter._emitter
    return emitter


def _install() -> None:
    with _lock:
        if getattr(ClientCreator, "_mpscan_shared", False):
            return
        load = getattr(ClientCreator, "_load_service_model", None)
        make_class = getattr(ClientCreator, "_create_client_class", None)
        if load is None or make_class is None:
            return

        def _load_service_model(self, service_name, api_version=None):
            if _unwrapped(self._event_emitter) not in _shared_hooks:
                return load(self, service_name, api_version)
            return _memo(_models, self._loader, (service_name, api_version), load, self)

        def _create_client_class(self, service_name, service_model):
            hooks = _unwrapped(self._event_emitter)
            if hooks not in _shared_hooks:
                return make_class(self, service_name, service_model)
            key = (service_name, service_model.api_version, id(hooks))  # the class keeps them

            def make(creator, name, *_):
                return make_class(creator, name, service_model)

            return _memo(_classes, self._loader, key, make, self)

        ClientCreator._load_service_model = _load_service_model
        ClientCreator._create_client_class = _create_client_class
        ClientCreator._mpscan_shared = True


def _memo(cache: weakref.WeakKeyDictionary, owner: Any, key: tuple, make: Any, creator: Any) -> Any:
    """cache[owner][key], made by make(creator, *key) the first time (outside the lock: two
    threads may both make it, and the first one stored is kept)."""
    with _lock:
        made = cache.setdefault(owner, {}).get(key)
    if made is None:
        made = make(creator, *key)
        with _lock:
            made = cache[owner].setdefault(key, made)
    return made
