"""PDF documents: A4, Bengali and English side by side, shaped by HarfBuzz, fonts subset.

Rendering is pure CPU work on facts gathered beforehand; callers in the action
server run it in an executor.
"""

import re
from io import BytesIO
from pathlib import Path
from typing import Dict, List, Tuple

import segno
from fpdf import FPDF

from panchayat.catalogue import digits, text as catalogue_text

FONTS = Path(__file__).resolve().parent / "fonts"
# Bengali runs (with the spaces and punctuation inside them) and the rest.
# The danda (U+0964) lives in the Devanagari block but is drawn from the Bengali font.
SCRIPT_RUNS = re.compile(
    r"[\u0980-\u09ff\u0964\u0965\u200c\u200d]+(?:[\s,-]+[\u0980-\u09ff\u0964\u0965\u200c\u200d]+)*|"
    r"[^\u0980-\u09ff\u0964\u0965\u200c\u200d]+"
)
BENGALI = re.compile(r"[\u0980-\u09ff\u0964\u0965]")
INK = (20, 40, 90)
_MEASURED_RUNS: dict = {}


class PanchayatPDF(FPDF):
    """A4 with Noto Sans for Latin and Noto Sans Bengali for Bengali runs, shaped by HarfBuzz.

    Each script run is drawn in its own font, with our own line wrapping: fpdf2's
    font fallback leaves the PDF's current font out of step after a Bengali run,
    and its shaped line breaker is slow."""

    def __init__(self) -> None:
        super().__init__(format="A4", unit="mm")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 16, 18)
        self.add_font("NotoSans", "", str(FONTS / "NotoSansLatin-Regular.ttf"))
        self.add_font("NotoSansBengali", "", str(FONTS / "NotoSansBengali-Regular.ttf"))
        self.set_font("NotoSans", size=10)
        self.set_text_shaping(True)
        self.set_creator("Smart Panchayat")

    LATIN_FAMILY = "notosans"

    def set_font(self, family=None, style="", size=0):
        # Only regular faces are embedded (each face costs parsing and subsetting time on
        # every document); para() draws bold text filled and stroked.
        super().set_font(family, "", size)

    def _unshaped(self, method, *args, **kwargs):
        """Latin runs (English, figures) need no shaping: skipping HarfBuzz and fpdf2's bidi pass
        for them takes about a third off the rendering time; Bengali runs are still shaped."""
        if self.font_family != self.LATIN_FAMILY or not self.text_shaping:
            return method(*args, **kwargs)
        shaping, self.text_shaping = self.text_shaping, None
        try:
            return method(*args, **kwargs)
        finally:
            self.text_shaping = shaping

    def get_string_width(self, *args, **kwargs):
        return self._unshaped(super().get_string_width, *args, **kwargs)

    def cell(self, *args, **kwargs):
        return self._unshaped(super().cell, *args, **kwargs)

    def _runs(self, text: str, size: float, bold: bool) -> List[Tuple[str, str, float]]:
        """(font family, text, width) for each script run of `text`.

        para() measures each line twice (to wrap, then to align) and documents repeat their labels;
        widths depend only on the text, the size and the (fixed) fonts, so they are remembered
        across documents."""
        key = (text, size, bold)
        runs = _MEASURED_RUNS.get(key)
        if runs is None:
            if len(_MEASURED_RUNS) > 20000:
                _MEASURED_RUNS.clear()
            _MEASURED_RUNS[key] = runs = self._measure_runs(text, size, bold)
        return runs

    def _measure_runs(self, text: str, size: float, bold: bool) -> List[Tuple[str, str, float]]:
        style, runs = "B" if bold else "", []
        for run in SCRIPT_RUNS.findall(text):
            family = "NotoSansBengali" if BENGALI.search(run) else "NotoSans"
            self.set_font(family, style, size)
            runs.append((family, run, self.get_string_width(run)))
        return runs

    def _wrap(self, text: str, width: float, size: float, bold: bool) -> List[str]:
        """Greedy line filling, measuring each word once."""
        if sum(w for _, _, w in self._runs(text, size, bold)) <= width and "\n" not in text:
            return [text]
        space = sum(w for _, _, w in self._runs(" ", size, bold))
        lines: List[str] = []
        for paragraph in text.split("\n"):
            line, used = "", 0.0
            for word in paragraph.split(" "):
                word_width = sum(w for _, _, w in self._runs(word, size, bold)) if word else 0.0
                if line and used + space + word_width > width:
                    lines.append(line)
                    line, used = word, word_width
                else:
                    line, used = (f"{line} {word}", used + space + word_width) if line else (word, word_width)
            lines.append(line)
        return lines

    def para(
        self, text: str, size: float = 10, bold: bool = False, align: str = "L", height: float = 6, width: float = 0
    ) -> None:
        """Wrapped text from the current position; leaves the cursor under it (at the left margin
        when `width` is 0, else at the same x)."""
        left, width = self.get_x(), width or self.epw
        for line in self._wrap(text, width, size, bold):
            runs = self._runs(line, size, bold)
            used = sum(w for _, _, w in runs)
            x = left + {"C": (width - used) / 2, "R": width - used}.get(align, 0)
            top = self.get_y()
            for family, run, run_width in runs:
                self.set_font(family, "", size)
                self.set_xy(x, top)
                if bold:  # one filled-and-stroked pass: the look of bold without a second face
                    with self.local_context(
                        text_mode="FILL_STROKE", line_width=0.018 * size, draw_color=self.text_color
                    ):
                        self.cell(run_width, height, run)
                else:
                    self.cell(run_width, height, run)
                x += run_width
            self.set_xy(left, top + height)
        if width == self.epw:
            self.set_x(self.l_margin)


def render_certificate(facts: Dict) -> bytes:
    service, gp = facts["service"], facts["gp"]
    pdf = PanchayatPDF()
    pdf.set_title(f"{service.certificate['title']['en']} {facts['number']}")
    pdf.add_page()
    pdf.set_text_color(*INK)
    pdf.para(f"{gp['name']['bn']} গ্রাম পঞ্চায়েত", 16, bold=True, align="C", height=8)
    pdf.para(f"{gp['name']['en']} Gram Panchayat", 13, bold=True, align="C", height=7)
    pdf.para(
        f"{gp['block']['bn']} ব্লক, {gp['district']['bn']}  |  {gp['block']['en']} Block, "
        f"{gp['district']['en']}, West Bengal",
        9,
        align="C",
        height=5,
    )
    if gp.get("address", {}).get("en"):
        pdf.para(gp["address"]["en"], 8, align="C", height=5)
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.6)
    rule_y = pdf.get_y() + 2
    pdf.line(18, rule_y, 192, rule_y)
    pdf.ln(5)
    pdf.para(service.certificate["title"]["bn"], 15, bold=True, align="C", height=8)
    pdf.para(service.certificate["title"]["en"], 13, bold=True, align="C", height=7)
    pdf.ln(2)
    pdf.set_text_color(0, 0, 0)
    pdf.para(f"শংসাপত্র নম্বর / Certificate No.: {facts['number']}", 11, bold=True)
    issued = facts["issued"].strftime("%d/%m/%Y")
    pdf.para(f"প্রদানের তারিখ / Date of issue: {digits(issued, 'bn')} / {issued}", 10)
    if facts.get("valid_until"):
        until = facts["valid_until"].strftime("%d/%m/%Y")
        pdf.para(f"বৈধতা / Valid until: {digits(until, 'bn')} / {until}", 10)
    submitted = facts["submitted"].strftime("%d/%m/%Y")
    pdf.para(f"আবেদনের তারিখ / Applied on: {digits(submitted, 'bn')} / {submitted}", 10)
    pdf.ln(3)
    statement = facts.get("statement")
    if statement:
        pdf.para(statement["bn"], 10.5)
        pdf.ln(1)
        pdf.para(statement["en"], 10)
    else:
        pdf.para(f"এই শংসাপত্র {facts['holder']}-কে প্রদান করা হল। This certificate is issued to {facts['holder']}.", 10)
    pdf.ln(2)
    pdf.set_draw_color(190, 190, 190)
    pdf.set_line_width(0.2)
    for label, value in facts["fields"]:
        top = pdf.get_y()
        pdf.set_x(pdf.l_margin)
        pdf.para(f"{label['bn']} / {label['en']}", 9.5, height=6, width=72)
        label_bottom = pdf.get_y()
        pdf.set_xy(pdf.l_margin + 72, top)
        pdf.para(value, 9.5, height=6, width=pdf.epw - 72)
        bottom = max(label_bottom, pdf.get_y())
        pdf.line(pdf.l_margin, bottom, pdf.l_margin + pdf.epw, bottom)
        pdf.set_xy(pdf.l_margin, bottom)
    pdf.ln(4)
    pdf.para("শর্তাবলি / Conditions", 10.5, bold=True)
    for number, condition in enumerate(service.certificate.get("conditions", []), start=1):
        pdf.para(f"{digits(number, 'bn')}. {condition['bn']}", 9.5, height=5.5)
        pdf.para(f"    {condition['en']}", 9, height=5)
    pdf.ln(6)
    qr_top = pdf.get_y()
    qr = segno.make(facts["verify_url"], error="m")
    image = BytesIO()
    qr.save(image, kind="png", scale=4, border=1)
    image.seek(0)
    pdf.image(image, x=18, y=qr_top, w=32, h=32)
    for index, text in enumerate(("QR কোড স্ক্যান করে শংসাপত্রটি যাচাই করুন।", "Scan the QR code to verify this certificate.")):
        pdf.set_xy(54, qr_top + 2 + index * 4.5)
        pdf.para(text, 8, height=4.5, width=66)
    role_en, role_bn = (catalogue_text(f"role_{facts['signatory']['role']}", lang) for lang in ("en", "bn"))
    signature_lines = (
        facts["signatory"]["name"]["bn"],
        facts["signatory"]["name"]["en"],
        f"{role_bn}, {gp['name']['bn']} গ্রাম পঞ্চায়েত",
        f"{role_en}, {gp['name']['en']} Gram Panchayat",
    )
    for index, text in enumerate(signature_lines):
        pdf.set_xy(122, qr_top + 12 + index * 5)
        pdf.para(text, 9 if index > 1 else 9.5, bold=index < 2, align="C", height=5, width=70)
    pdf.set_y(max(pdf.get_y(), qr_top + 36))
    if gp.get("is_sample"):
        pdf.set_text_color(160, 0, 0)
        pdf.para("নমুনা — সরকারি নথি নয় / SAMPLE — not an official document", 9, bold=True, align="C")
    return bytes(pdf.output())
