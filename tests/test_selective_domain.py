"""Selective domain: the action server gets the domain only where rasa_sdk reads it.

Without it, Rasa sends the whole domain (about 30 KB of JSON) with every action call, two or
three per turn; with it, an action that reads the domain but is not marked `send_domain`
silently sees an empty one (a form would then ask nothing). These tests keep the two in step."""

import importlib
import inspect
import pkgutil
from pathlib import Path

import yaml
from rasa.shared.core.domain import Domain
from rasa_sdk.forms import ValidationAction

import actions

ROOT = Path(__file__).resolve().parent.parent


def _validation_actions() -> set:
    names = set()
    for module_info in pkgutil.iter_modules(actions.__path__):
        module = importlib.import_module(f"actions.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, ValidationAction) and cls.__module__ == module.__name__ and not inspect.isabstract(cls):
                try:
                    names.add(cls().name())
                except (NotImplementedError, TypeError):
                    continue  # a mixin without a name of its own
    return names


def test_both_endpoint_files_enable_selective_domain():
    for path in (ROOT / "endpoints.yml", ROOT / "deploy" / "endpoints.production.yml"):
        endpoint = yaml.safe_load(path.read_text())["action_endpoint"]
        assert endpoint.get("enable_selective_domain") is True, path


def test_every_form_validator_gets_the_domain_and_nothing_else_does():
    domain = Domain.load(str(ROOT / "domain.yml"))
    validators = _validation_actions()
    assert {"validate_application_form", "validate_booking_form", "validate_pay_form"} <= validators
    marked = {name for name in domain.user_actions if domain.does_custom_action_explicitly_need_domain(name)}
    assert marked == validators
    assert not domain.does_custom_action_explicitly_need_domain("action_identify_citizen")
