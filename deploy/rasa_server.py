"""`rasa` with the fixes the load benchmark found (docs/benchmark.md): the one Rasa server of
every mode (`make run`, `make serve`, `make simulator` through scripts/stack.py, the tests, and
production through scripts/production.py).

    python deploy/rasa_server.py run --model ... --endpoints ... --credentials ...

Same arguments as the `rasa` command. Before handing over to Rasa it replaces two functions:

- `RemoteAction._validate_action_result`: Rasa 3.6 calls `jsonschema.validate()` on every
  action server answer, and that first checks the (constant) schema against the JSON Schema
  meta-schema and builds a new validator. Profiled under load this was over half of the Rasa
  server's event-loop time. Here the validator is built once; each answer is still validated
  against the same schema, with the same error when it does not fit.
- `Event.resolve_by_type`: walks every subclass of Event (`all_subclasses`, rebuilt each call)
  for each event of a tracker read from the tracker store, so reading a conversation cost time
  in proportion to its length times the number of event classes. Here the first class found
  for a type name is remembered; an unknown name looks again (a class defined later is found).

Two process settings go with them (not patches: Rasa's code is untouched):

- TensorFlow runs with one thread per pool and without oneDNN's rewrites
  (`TENSORFLOW_DEFAULTS`, each overridable from the environment): DIET predicts one short
  message at a time, where extra threads and oneDNN's kernels cost more than they save
  (measured with our model: oneDNN off took parsing from 17.7-18.5 to 14.7-14.9 ms of CPU per
  message and 20-30 MiB less memory; docs/benchmark.md).
- JAX stays out (`keep_jax_out`): TensorFlow 2.12 requires it and imports it, when installed,
  only for TFLite's conversion of JAX models, which Rasa never does; that import costs about
  65 MiB per server. TensorFlow expects the ImportError and leaves the conversion off.
- Freed memory goes back to the system (`return_freed_memory`): loading the model leaves about
  150 MB of freed heap that glibc keeps; a thread calls malloc_trim every TRIM_EVERY seconds,
  which also keeps a long-running server's resident memory flat.

Each patch was written against Rasa RASA_VERSION and names the sha256 of the source of the
function it replaces. If the installed Rasa or that source differs, the server refuses to start
and says which patch no longer fits (tests/test_rasa_patches.py fails the same way). To run
anyway, unpatched, set PANCHAYAT_RASA_UNPATCHED=1: a warning is printed and Rasa runs as shipped.
"""

import ctypes
import ctypes.util
import hashlib
import inspect
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

# The project root, for deploy.lock_store and the channels named in credentials.yml.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RASA_VERSION = "3.6.21"
TENSORFLOW_DEFAULTS = {
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
}
TRIM_EVERY = 30.0  # seconds
ALLOW_UNPATCHED = "PANCHAYAT_RASA_UNPATCHED"


class PatchMismatch(RuntimeError):
    """The installed Rasa is not the one a patch was written for."""


@dataclass(frozen=True)
class Patch:
    name: str  # the replaced function, as module:Class.attribute
    original_sha256: str  # sha256 of inspect.getsource() of Rasa's function
    owner: Callable[[], type]  # the class that holds it (imported late: Rasa is slow to import)
    attribute: str
    replacement: Callable[[], Any]  # builds what goes in its place


def fingerprint(function: Any) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


# Rasa's own functions, kept when replaced (for the check and for tests comparing behaviour).
_originals: Dict[str, Any] = {}


def original(patch: Patch) -> Any:
    """Rasa's function, whether or not the patch is applied."""
    if patch.name in _originals:
        return _originals[patch.name]
    return getattr(patch.owner(), patch.attribute)


def _remote_action() -> type:
    from rasa.core.actions.action import RemoteAction

    return RemoteAction


def _event() -> type:
    from rasa.shared.core.events import Event

    return Event


def _cached_action_result_validation() -> Any:
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.shared.constants import DOCS_BASE_URL

    RemoteAction = _remote_action()
    validator: Optional[Any] = None

    def validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
        nonlocal validator
        if validator is None:
            schema = RemoteAction.action_response_format_spec()
            validator = validator_for(schema)(schema)
        error = best_match(validator.iter_errors(result))
        if error is not None:
            error.message += (
                ". Failed to validate Action server response from API, make sure your response from the "
                f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    return validate_action_result


def _cached_event_classes() -> Any:
    import rasa.shared.utils.common

    Event = _event()
    found: Dict[str, type] = {}

    def resolve_by_type(type_name: str, default: Optional[type] = None) -> Optional[type]:
        cls = found.get(type_name)
        if cls is not None:
            return cls
        for candidate in rasa.shared.utils.common.all_subclasses(Event):
            if candidate.type_name == type_name:
                found[type_name] = candidate
                return candidate
        if type_name == "topic":
            return None  # as Rasa: old TopicSet events
        if default is not None:
            return default
        raise ValueError(f"Unknown event name '{type_name}'.")

    return staticmethod(resolve_by_type)


PATCHES: List[Patch] = [
    Patch(
        "rasa.core.actions.action:RemoteAction._validate_action_result",
        "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42",
        _remote_action,
        "_validate_action_result",
        _cached_action_result_validation,
    ),
    Patch(
        "rasa.shared.core.events:Event.resolve_by_type",
        "b5cf570fa7f286c7059ec73d8880528d03a78b28cf4e80285a46079c0fa65968",
        _event,
        "resolve_by_type",
        _cached_event_classes,
    ),
]


def installed_rasa_version() -> str:
    import rasa

    return rasa.__version__


def problems() -> List[str]:
    """Why the patches do not fit the installed Rasa; empty when they all do."""
    found = []
    version = installed_rasa_version()
    if version != RASA_VERSION:
        found.append(f"Rasa {version} is installed; the patches were written for Rasa {RASA_VERSION}")
    for patch in PATCHES:
        try:
            digest = fingerprint(original(patch))
        except (AttributeError, ImportError, OSError, TypeError) as error:
            found.append(f"{patch.name}: not found in the installed Rasa ({type(error).__name__})")
            continue
        if digest != patch.original_sha256:
            found.append(
                f"{patch.name}: its source changed (sha256 {digest[:12]}…, "
                f"patch written for {patch.original_sha256[:12]}…)"
            )
    return found


def apply() -> bool:
    """Replaces the functions; True when patched. Raises PatchMismatch when a patch no longer
    fits the installed Rasa, unless PANCHAYAT_RASA_UNPATCHED=1 (then warns, runs unpatched)."""
    mismatches = problems()
    if mismatches:
        details = "\n  ".join(mismatches)
        if os.environ.get(ALLOW_UNPATCHED) == "1":
            print(
                f"rasa_server: WARNING: running Rasa UNPATCHED ({ALLOW_UNPATCHED}=1), slower under load:\n  {details}",
                file=sys.stderr,
                flush=True,
            )
            return False
        raise PatchMismatch(
            "deploy/rasa_server.py: the Rasa patches do not fit the installed Rasa:\n  "
            f"{details}\nReview each patch against the new Rasa source (docs/benchmark.md), update its "
            f"fingerprint, or set {ALLOW_UNPATCHED}=1 to run Rasa unpatched."
        )
    for patch in PATCHES:
        if patch.name in _originals:
            continue  # already applied in this process
        owner = patch.owner()
        _originals[patch.name] = getattr(owner, patch.attribute)
        setattr(owner, patch.attribute, patch.replacement())
    return True


def keep_jax_out(modules: Dict[str, Any] = sys.modules) -> None:  # type: ignore[assignment]
    """Makes `import jax` raise ImportError in this process (a None entry in sys.modules does)."""
    modules.setdefault("jax", None)


def set_tensorflow_defaults(environ: Dict[str, str] = os.environ) -> None:  # type: ignore[assignment]
    """TENSORFLOW_DEFAULTS where the environment does not say otherwise; before TensorFlow loads."""
    for name, value in TENSORFLOW_DEFAULTS.items():
        environ.setdefault(name, value)


def trim_freed_memory() -> bool:
    """Hands the heap's free pages back to the system; False where the C library cannot."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)  # 1 when it gave pages back, 0 when there were none
    except (OSError, AttributeError):  # not glibc
        return False
    return True


def return_freed_memory(every: float = TRIM_EVERY) -> Optional[threading.Thread]:
    """Starts the thread that trims the heap every `every` seconds (daemon: dies with Rasa)."""
    if not trim_freed_memory():
        return None

    def loop() -> None:
        while True:
            time.sleep(every)
            trim_freed_memory()

    thread = threading.Thread(target=loop, name="return-freed-memory", daemon=True)
    thread.start()
    return thread


if __name__ == "__main__":
    set_tensorflow_defaults()
    keep_jax_out()
    return_freed_memory()
    try:
        apply()
    except PatchMismatch as mismatch:
        print(mismatch, file=sys.stderr)
        sys.exit(3)
    from rasa.__main__ import main

    sys.exit(main())
