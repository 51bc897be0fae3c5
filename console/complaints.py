"""(placeholder: built next)"""
from typing import Any

from flask import Blueprint, render_template

from console import web

bp = Blueprint("complaints", __name__, url_prefix="/complaints")


@bp.get("/")
@web.require("see_cases")
def queue() -> Any:
    return render_template("error.html", message="")
