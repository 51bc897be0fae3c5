"""The WhatsApp channel's settings: credentials and limits, from credentials.yml or the environment.

Each setting has a key in credentials.yml and a variable in the environment, WHATSAPP_<KEY>;
`ENVIRONMENT` is the one list of both, which the channel, the notification worker, the
simulator and the scripts that start the stack all read.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

from rasa.shared.exceptions import RasaException

from panchayat import config

DEFAULT_API_BASE_URL = "https://graph.facebook.com/v21.0"
# Without these the channel stays off.
REQUIRED_KEYS = ("verify_token", "app_secret", "access_token", "phone_number_id")
OPTIONAL_KEYS = (
    "api_base_url",
    "media_dir",
    "max_media_bytes",
    "max_body_bytes",
    "menu_ttl_seconds",
    "send_attempts",
    "retry_base_delay",
    "request_timeout",
    "outbound_file_dirs",
)
# Setting key -> its environment variable.
ENVIRONMENT = {key: f"WHATSAPP_{key.upper()}" for key in REQUIRED_KEYS + OPTIONAL_KEYS}


def credentials_in_environment(environ: Optional[Mapping[str, str]] = None) -> bool:
    """True when every required credential is set in the environment, so the channel can run."""
    environ = os.environ if environ is None else environ
    return all(environ.get(ENVIRONMENT[key]) for key in REQUIRED_KEYS)


def _setting(credentials: Mapping[str, Any], environ: Mapping[str, str], key: str, default: Any = None) -> Any:
    value = credentials.get(key)
    if value in (None, ""):
        value = environ.get(ENVIRONMENT[key])
    return default if value in (None, "") else value


@dataclass(frozen=True)
class WhatsAppSettings:
    """Credentials and limits. Secrets stay out of repr(), so a logged settings object leaks nothing."""

    verify_token: str = field(repr=False)
    app_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    phone_number_id: str
    api_base_url: str = DEFAULT_API_BASE_URL
    media_dir: Path = config.WHATSAPP_MEDIA_DIR
    max_media_bytes: int = config.WHATSAPP_MAX_MEDIA_BYTES
    max_body_bytes: int = 1024 * 1024
    # A menu may be answered by number or title this long after it was sent.
    menu_ttl_seconds: int = 24 * 3600
    send_attempts: int = 5
    retry_base_delay: float = 1.0
    request_timeout: float = 30.0
    # Files the dialogue may send as documents must lie under one of these folders.
    outbound_file_dirs: Tuple[Path, ...] = (config.VAR_DIR,)

    @classmethod
    def from_credentials(
        cls, credentials: Optional[Mapping[str, Any]], environ: Optional[Mapping[str, str]] = None
    ) -> "WhatsAppSettings":
        """Each key from credentials.yml, else from its variable in the environment."""
        credentials = credentials or {}
        environ = os.environ if environ is None else environ
        values = {key: _setting(credentials, environ, key) for key in REQUIRED_KEYS}
        missing = [key for key, value in values.items() if not value]
        if missing:
            raise RasaException(
                f"The WhatsApp channel needs {', '.join(missing)} in credentials.yml or "
                f"{', '.join(ENVIRONMENT[key] for key in missing)} in the environment."
            )
        folders = _setting(credentials, environ, "outbound_file_dirs")
        if isinstance(folders, str):
            folders = folders.split(os.pathsep)
        return cls(
            **{key: str(value) for key, value in values.items()},
            api_base_url=str(_setting(credentials, environ, "api_base_url", DEFAULT_API_BASE_URL)).rstrip("/"),
            media_dir=Path(_setting(credentials, environ, "media_dir", config.WHATSAPP_MEDIA_DIR)),
            max_media_bytes=int(_setting(credentials, environ, "max_media_bytes", config.WHATSAPP_MAX_MEDIA_BYTES)),
            max_body_bytes=int(_setting(credentials, environ, "max_body_bytes", cls.max_body_bytes)),
            menu_ttl_seconds=int(_setting(credentials, environ, "menu_ttl_seconds", cls.menu_ttl_seconds)),
            send_attempts=max(1, int(_setting(credentials, environ, "send_attempts", cls.send_attempts))),
            retry_base_delay=float(_setting(credentials, environ, "retry_base_delay", cls.retry_base_delay)),
            request_timeout=float(_setting(credentials, environ, "request_timeout", cls.request_timeout)),
            outbound_file_dirs=tuple(Path(f) for f in folders) if folders else cls.outbound_file_dirs,
        )
