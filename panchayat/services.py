"""Certificate services defined as data: one YAML file per service in service_definitions/."""
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import yaml

from panchayat.errors import PanchayatError

DEFINITIONS_DIR = Path(__file__).resolve().parent / "service_definitions"


@dataclass(frozen=True)
class Service:
    code: str
    prefix: str
    name: Dict[str, str]
    summary: Dict[str, str]
    fee_rupees: int
    processing_days: int
    validity_years: int
    signatory_role: str
    holder_field: str
    fields: List[dict]
    documents: List[dict]
    certificate: dict = field(default_factory=dict)
    order: int = 99
    # What villagers call the service ("barir plan", "ট্রেড লাইসেন্স"), to pick it from a list.
    also: tuple = ()

    def title(self, language: str) -> str:
        return self.name.get(language) or self.name["en"]

    @property
    def field_names(self) -> List[str]:
        return [f["name"] for f in self.fields]


def load_definition(path: Path) -> Service:
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    return Service(
        code=raw["code"],
        prefix=raw["prefix"],
        name=raw["name"],
        summary=raw.get("summary", raw["name"]),
        fee_rupees=int(raw.get("fee_rupees", 0)),
        processing_days=int(raw.get("processing_days", 7)),
        validity_years=int(raw.get("validity_years", 1)),
        signatory_role=raw.get("signatory_role", "pradhan"),
        holder_field=raw.get("holder_field") or raw["fields"][0]["name"],
        fields=list(raw.get("fields", [])),
        documents=list(raw.get("documents", [])),
        certificate=raw.get("certificate", {}),
        order=int(raw.get("order", 99)),
        also=tuple(raw.get("also") or ()),
    )


@lru_cache(maxsize=None)
def _load_dir(directory: str) -> Dict[str, Service]:
    loaded = [load_definition(path) for path in sorted(Path(directory).glob("*.yml"))]
    # Menus list services in the order their definitions give.
    return {service.code: service for service in sorted(loaded, key=lambda s: (s.order, s.code))}


def all_services(extra_dirs: Iterable[Path] = ()) -> Dict[str, Service]:
    services = dict(_load_dir(str(DEFINITIONS_DIR)))
    for directory in extra_dirs:
        services.update(_load_dir(str(directory)))
    return services


def get_service(code: str) -> Service:
    service = all_services().get(code)
    if service is None:
        raise PanchayatError("unknown_service", service=code)
    return service


def service_for_number(number: str) -> Optional[Service]:
    for service in all_services().values():
        if number.startswith(service.prefix + "-"):
            return service
    return None
