"""(placeholder: built next)"""
from typing import Any

from flask import Blueprint, render_template

from console import web

bp = Blueprint("guest_houses", __name__, url_prefix="/guest-houses")


@bp.get("/")
@web.require("see_cases")
def calendar() -> Any:
    return render_template("error.html", message="")
