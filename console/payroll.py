"""(placeholder: built next)"""
from typing import Any

from flask import Blueprint, render_template

from console import web

bp = Blueprint("payroll", __name__, url_prefix="/payroll")


@bp.get("/")
@web.require("payroll")
def employees() -> Any:
    return render_template("error.html", message="")
