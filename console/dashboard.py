"""(placeholder: built next)"""
from typing import Any

from flask import Blueprint, render_template

from console import web

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.get("/")
@web.require("see_cases")
def dashboard() -> Any:
    return render_template("error.html", message="")
