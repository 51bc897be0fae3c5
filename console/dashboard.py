"""The dashboard: the figures of the account's GP, or of every GP of a block officer's block (with
a row per GP, each opening that GP's figures), and two charts of the last twelve weeks.

The charts are PNG images drawn on the server with matplotlib's Agg backend (no script, nothing
from the internet, nothing the page's Content-Security-Policy has to allow). matplotlib does not
shape Bengali, so the words stay in the HTML around each image; the axes carry only dates and
numbers, in the reader's digits (Noto Sans Bengali has both)."""

import io
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, Optional, Sequence, Tuple

from flask import Blueprint, Response, abort, render_template, request

import panchayat
from console import web
from panchayat import catalogue, config, dashboard as figures, staff
from panchayat.models import Block, GramPanchayat

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

FONTS = Path(panchayat.__file__).resolve().parent / "fonts"
# The two series of a chart: the console's green, and an orange that stays apart from it for
# readers who do not tell red from green (console.css .swatch.first / .swatch.second).
COLOURS = ("#0b6e4f", "#d97706")
# matplotlib measures every text's depth with "lp", which the Bengali font lacks; the ticks need only its digits.
warnings.filterwarnings("ignore", message=r"Glyph (108|112) \(\w\) missing from current font", category=UserWarning)


def _chosen() -> Tuple[FrozenSet[int], Optional[int]]:
    """The GPs shown: the whole scope, or one GP of it chosen with ?gp= (404 outside the scope)."""
    gp = request.args.get("gp", type=int)
    if gp is not None:
        web.in_scope(gp)
        return frozenset((gp,)), gp
    return web.scope(), None


def _place(gp: Optional[int]) -> str:
    session = web.db_session()
    language = web.lang()
    code = gp if gp is not None else web.me().gp_code
    if code is not None:
        found = session.get(GramPanchayat, code)
        return catalogue.localised(found.name_en, found.name_bn, language) if found else ""
    block = session.get(Block, web.me().block_code) if web.me().block_code is not None else None
    return catalogue.localised(block.name_en, block.name_bn, language) if block else ""


def _days(value: Optional[float]) -> Optional[str]:
    return catalogue.digits(f"{value:.1f}", web.lang()) if value is not None else None


@bp.get("/")
@web.require("see_cases")
def dashboard() -> Any:
    codes, gp = _chosen()
    session = web.db_session()
    whole = figures.build(session, codes)
    rows = []
    if web.me().role in staff.BLOCK_ROLES and gp is None:
        rows = figures.per_gp(session, codes)
    return render_template(
        "dashboard.html",
        place=_place(gp),
        chosen_gp=gp,
        figures=whole,
        rows=rows,
        window=figures.WINDOW_DAYS,
        weeks=figures.WEEKS,
        overdue_days=config.GRIEVANCE_OVERDUE_DAYS,
        median_decision=_days(whole.applications.median_days_to_decision),
        median_resolution=_days(whole.complaints.median_resolution_days),
        average_rating=_days(whole.complaints.average_rating),
        row_rating=_days,
    )


# name -> (first series, second series) of the weekly figures
CHARTS: Dict[str, Tuple[Callable[[figures.WeeklySeries], Sequence[int]], ...]] = {
    "applications": (lambda w: w.applications_received, lambda w: w.applications_decided),
    "complaints": (lambda w: w.complaints_lodged, lambda w: w.complaints_resolved),
}


@bp.get("/charts/<name>.png")
@web.require("see_cases")
def chart(name: str) -> Any:
    if name not in CHARTS:
        abort(404)
    codes, _ = _chosen()
    weekly = figures.weekly_series(web.db_session(), codes)
    first, second = (pick(weekly) for pick in CHARTS[name])
    png = weekly_bars(weekly.weeks, first, second, web.lang())
    return Response(png, mimetype="image/png")


def weekly_bars(weeks: Sequence[Any], first: Sequence[int], second: Sequence[int], language: str) -> bytes:
    """Two series of weekly counts side by side, weeks on the x axis (their Mondays, dd/mm)."""
    # Imported here: matplotlib takes a while to load, and only the chart needs it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import MaxNLocator

    font = FontProperties(
        fname=str(FONTS / ("NotoSansBengali-Regular.ttf" if language == "bn" else "NotoSansLatin-Regular.ttf")),
        size=8,
    )
    figure = Figure(figsize=(6.4, 2.4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    figure.subplots_adjust(left=0.07, right=0.99, top=0.93, bottom=0.12)
    places = range(len(weeks))
    # One call for both series: each bar is an artist, and a second call costs as much again.
    axes.bar(
        [x - 0.2 for x in places] + [x + 0.2 for x in places],
        [*first, *second],
        width=0.4,
        color=[COLOURS[0]] * len(first) + [COLOURS[1]] * len(second),
    )
    top = max([1, *first, *second])
    ticks = [tick for tick in MaxNLocator(nbins=4, integer=True).tick_values(0, top) if tick >= 0]
    axes.set_ylim(0, max(ticks[-1], top))
    axes.set_yticks(ticks)
    axes.set_yticklabels([catalogue.digits(int(tick), language) for tick in ticks], fontproperties=font)
    axes.set_xticks(list(places))
    axes.set_xticklabels([catalogue.digits(week.strftime("%d/%m"), language) for week in weeks], fontproperties=font)
    axes.set_xlim(-0.6, len(weeks) - 0.4)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis="y", color="#d9dee5", linewidth=0.6)
    axes.set_axisbelow(True)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
