"""deploy/rasa_server.py's patches of Rasa internals: they still fit the installed Rasa, a
mismatch stops the server loudly, and each patched function behaves as Rasa's own."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("rasa_server", ROOT / "deploy" / "rasa_server.py")
assert _spec and _spec.loader
rasa_server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rasa_server)


def _patch(attribute: str):
    return next(patch for patch in rasa_server.PATCHES if patch.attribute == attribute)


def test_every_patch_fits_the_installed_rasa():
    # When this fails, Rasa changed under a patch: review the patch against the new source.
    assert rasa_server.problems() == [], "\n".join(rasa_server.problems())
    assert rasa_server.apply() is True


def test_a_changed_rasa_stops_the_server_loudly(monkeypatch):
    monkeypatch.setattr(rasa_server, "RASA_VERSION", "3.6.0")
    monkeypatch.setattr(rasa_server, "PATCHES", [
        rasa_server.Patch("x:Y.z", "0" * 64, _patch("resolve_by_type").owner, "resolve_by_type", lambda: None)
    ])
    monkeypatch.delenv(rasa_server.ALLOW_UNPATCHED, raising=False)
    with pytest.raises(rasa_server.PatchMismatch) as mismatch:
        rasa_server.apply()
    message = str(mismatch.value)
    assert "written for Rasa 3.6.0" in message
    assert "x:Y.z: its source changed" in message
    assert rasa_server.ALLOW_UNPATCHED in message
    # Allowed explicitly: a warning, and Rasa left as shipped.
    monkeypatch.setenv(rasa_server.ALLOW_UNPATCHED, "1")
    assert rasa_server.apply() is False


def test_a_missing_function_is_a_mismatch(monkeypatch):
    monkeypatch.setattr(rasa_server, "PATCHES", [
        rasa_server.Patch("x:Event.gone", "0" * 64, _patch("resolve_by_type").owner, "gone", lambda: None)
    ])
    assert rasa_server.problems() == ["x:Event.gone: not found in the installed Rasa (AttributeError)"]


def test_the_entry_point_refuses_a_mismatch():
    code = (
        "import runpy, sys; sys.argv = ['rasa_server.py', '--version'];"
        "import rasa; rasa.__version__ = '9.9.9';"
        f"runpy.run_path({str(ROOT / 'deploy' / 'rasa_server.py')!r}, run_name='__main__')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 3
    assert "Rasa 9.9.9 is installed; the patches were written for Rasa 3.6.21" in result.stderr


def _validation_error(validate, action, result):
    from jsonschema import ValidationError

    with pytest.raises(ValidationError) as error:
        validate(action, result)
    return error.value


def test_cached_validator_accepts_and_rejects_as_rasa():
    from rasa.core.actions.action import RemoteAction

    rasa_server.apply()
    action = RemoteAction("action_test", None)
    patched = RemoteAction._validate_action_result
    rasa_own = rasa_server.original(_patch("_validate_action_result"))
    assert patched is not rasa_own
    valid = {"events": [{"event": "slot", "name": "language", "value": "bn"}],
             "responses": [{"text": "namaskar", "buttons": [], "custom": {}}]}
    assert patched(action, valid) is rasa_own(action, valid) is True
    assert patched(action, {}) is rasa_own(action, {}) is True
    for invalid in ({"events": "not a list"}, {"events": [{"name": "x"}]}, {"responses": "not a list"},
                    {"events": [{"event": 5}]}):
        ours, theirs = _validation_error(patched, action, invalid), _validation_error(rasa_own, action, invalid)
        assert ours.message == theirs.message
        assert "Failed to validate Action server response from API" in ours.message
        assert list(ours.path) == list(theirs.path) and ours.validator == theirs.validator
    # Twice: the cached validator gives the same answer again.
    again = _validation_error(patched, action, {"events": "not a list"})
    assert again.message == _validation_error(rasa_own, action, {"events": "not a list"}).message


def test_resolve_by_type_finds_every_event_class_as_rasa():
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event, UserUttered

    rasa_server.apply()
    rasa_own = rasa_server.original(_patch("resolve_by_type"))
    assert Event.resolve_by_type is not rasa_own
    classes = rasa.shared.utils.common.all_subclasses(Event)
    assert len(classes) > 20
    for _ in range(2):  # first lookup, then from the cache
        for cls in classes:
            assert Event.resolve_by_type(cls.type_name) is rasa_own(cls.type_name)
    assert Event.resolve_by_type("user") is UserUttered
    for unknown in ("no_such_event", ""):
        with pytest.raises(ValueError) as ours:
            Event.resolve_by_type(unknown)
        with pytest.raises(ValueError) as theirs:
            rasa_own(unknown)
        assert str(ours.value) == str(theirs.value) == f"Unknown event name '{unknown}'."
    assert Event.resolve_by_type("topic") is rasa_own("topic") is None
    assert Event.resolve_by_type("no_such_event", UserUttered) is UserUttered
    # A class defined after the first lookups is found, as by Rasa.
    late = type("LateEvent", (UserUttered,), {"type_name": "late_event_for_test"})
    assert Event.resolve_by_type("late_event_for_test") is late
    # And events round-trip through the patched lookup.
    event = Event.from_parameters({"event": "slot", "name": "language", "value": "bn"})
    assert event.as_dict()["value"] == "bn"


def test_tensorflow_defaults_fill_only_what_the_environment_leaves_unset():
    environ = {"TF_INTRA_OP_PARALLELISM_THREADS": "2"}  # production.py --tf-threads 2
    rasa_server.set_tensorflow_defaults(environ)
    assert environ == {
        "TF_INTRA_OP_PARALLELISM_THREADS": "2",
        "TF_INTER_OP_PARALLELISM_THREADS": "1",
        "TF_ENABLE_ONEDNN_OPTS": "0",
    }


def test_freed_memory_is_returned_by_a_daemon_thread_on_glibc():
    assert rasa_server.trim_freed_memory() is True  # these machines run glibc
    thread = rasa_server.return_freed_memory(every=3600)
    assert thread is not None and thread.is_alive() and thread.daemon
    assert thread.name == "return-freed-memory"


def test_the_server_sets_the_defaults_before_tensorflow_loads():
    # The order matters: TensorFlow reads these variables once, when it is imported.
    source = (ROOT / "deploy" / "rasa_server.py").read_text()
    main = source[source.index('if __name__ == "__main__":') :]
    assert main.index("set_tensorflow_defaults()") < main.index("from rasa.__main__ import main")
    assert "import tensorflow" not in source and "\nimport rasa" not in source


def test_tensorflow_runs_without_jax_when_the_server_keeps_it_out():
    # A fresh interpreter as the server starts one: TensorFlow's TFLite helpers find no JAX and
    # turn JAX conversion off instead of failing, and a DIET-like model still runs.
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('rasa_server', {str(ROOT / 'deploy' / 'rasa_server.py')!r})\n"
        "server = importlib.util.module_from_spec(spec); spec.loader.exec_module(server)\n"
        "server.keep_jax_out()\n"
        "import tensorflow as tf\n"
        "from tensorflow.lite.python import util\n"
        "assert util._xla_computation is None\n"
        "assert 'jax' not in sys.modules or sys.modules['jax'] is None\n"
        "print(float(tf.reduce_sum(tf.keras.layers.Dense(2)(tf.ones((1, 3)))) * 0))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("0.0")
