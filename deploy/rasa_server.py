"""`rasa` with the fixes the load benchmark found (docs/benchmark.md), for scripts/production.py.

    python deploy/rasa_server.py run --model ... --endpoints deploy/endpoints.production.yml ...

Same arguments as the `rasa` command. Before handing over to Rasa it replaces one function:

- `RemoteAction._validate_action_result`: Rasa 3.6 calls `jsonschema.validate()` on every
  action server answer, and that first checks the (constant) schema against the JSON Schema
  meta-schema and builds a new validator. Profiled under load this was over half of the Rasa
  server's event-loop time. Here the validator is built once; each answer is still validated
  against the same schema, with the same error when it does not fit.
- `Event.resolve_by_type`: walks every subclass of Event (`all_subclasses`, rebuilt each call)
  for each event of a tracker read from the tracker store, so reading a conversation cost time
  in proportion to its length times the number of event classes. Here the first class found
  for a type name is remembered; an unknown name looks again (a class defined later is found).
"""
import sys
from pathlib import Path
from typing import Any, Dict, Optional

# The project root, for deploy.lock_store and the channels named in credentials.yml.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _cached_action_result_validation() -> None:
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.shared.constants import DOCS_BASE_URL
    from rasa.core.actions.action import RemoteAction

    validator: Optional[Any] = None

    def validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
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

    RemoteAction._validate_action_result = validate_action_result


def _cached_event_classes() -> None:
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

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

    Event.resolve_by_type = staticmethod(resolve_by_type)


def apply() -> None:
    _cached_action_result_validation()
    _cached_event_classes()


if __name__ == "__main__":
    apply()
    from rasa.__main__ import main

    sys.exit(main())
