"""A small document model for the comparison report, rendered to one self-contained HTML file
(figures embedded as base64 PNG, inline CSS, no scripts, fonts or other external assets) and
to Markdown (figures and CSV tables in a folder next to it). Files are written atomically.

Figures. Drawing and encoding the report's figures takes about half of its time, so a
`FigureRenderer` with workers draws them on worker processes while this process goes on with
the next sections' tables: `Document.plot(builder, args, ...)` sends the figure function of
analysis/figures.py and its (pickled) data to a worker, which builds the figure and returns
its PNG bytes; `Document.finish` collects them in order, drawing here those no worker has
started by then. Each figure is built and rendered from its pickled inputs alone by the same
function (`render_png`) wherever it runs, so the PNG bytes do not depend on the number of
workers (none: drawn here, at once) or on which process drew it. Workers are spawned, not
forked: this process has threads by then (Arrow's), and forking a multi-threaded process can
deadlock.
"""

from __future__ import annotations

import base64
import html
import io
import os
import pickle
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from simulation.common.errors import OutputError
from simulation.common.output import OutputFolder, add_entries, atomic_write_text, check_replaceable

FIGURE_DPI = 130
FIGURE_WORKERS = max(0, min(2, (os.cpu_count() or 1) - 1))
"""Worker processes drawing the report's figures by default (assumption: one core stays with
the report's tables; two workers at most, as a report has about a dozen figures); 0 draws
them in this process."""


def png_bytes(fig: Figure) -> bytes:
    """The PNG of a figure as the report embeds it; closes the figure."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def render_png(builder: Callable[..., Figure], args: Sequence[Any]) -> bytes:
    """Build a figure with `builder(*args)` and return its PNG (on a worker or here)."""
    return png_bytes(builder(*args))


def _render_pickled(job: bytes) -> bytes:
    builder, args = pickle.loads(job)
    return render_png(builder, args)


def _quiet_worker() -> None:
    """Ctrl-C reaches the whole process group: the report process stops the workers, which
    should not each print a traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Drawing:
    """A figure to draw: its pickled builder and data, and the worker's result or its own."""

    def __init__(self, job: bytes) -> None:
        self.job = job
        self.future: Future[bytes] | None = None
        self._png: bytes | None = None

    def draw_here(self) -> None:
        self._png = _render_pickled(self.job)

    def take_over(self) -> None:
        """Draw it in this process if no worker has started it (the report's tables are
        done, and this process would otherwise only wait)."""
        if self._png is None and self.future is not None and self.future.cancel():
            self.draw_here()

    def png(self) -> bytes:
        if self._png is None:
            assert self.future is not None
            self._png = self.future.result()
        return self._png


class FigureRenderer:
    """Draws figures on `workers` spawned processes (0: in this process, when asked).

    Use as a context manager: leaving it stops the workers (cancelling figures not started,
    e.g. after an error or Ctrl-C)."""

    def __init__(self, workers: int = FIGURE_WORKERS) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        if workers > 0:
            import multiprocessing

            self._pool = ProcessPoolExecutor(workers, initializer=_quiet_worker,
                                             mp_context=multiprocessing.get_context("spawn"))
            # start the workers now: importing matplotlib and pandas there overlaps with
            # loading the results here
            for _ in range(workers):
                self._pool.submit(_quiet_worker)

    def submit(self, builder: Callable[..., Figure], args: Sequence[Any]) -> Drawing:
        # pickled now, not when the pool gets round to it: the report may change its frames
        # after this call, and the figure must show them as they are now
        drawing = Drawing(pickle.dumps((builder, tuple(args))))
        if self._pool is None:
            drawing.draw_here()
        else:
            drawing.future = self._pool.submit(_render_pickled, drawing.job)
        return drawing

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> FigureRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

CSS = """
:root{--ink:#1d1d1f;--muted:#5b5b60;--rule:#d9d9de;--band:#f6f6f8;--accent:#1f5fa8}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;color:var(--ink);background:#fff;line-height:1.5;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",
"PingFang SC","Microsoft YaHei",sans-serif;font-size:16px}
main{max-width:62rem;margin:0 auto;padding:1rem 1rem 3rem}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 1rem}
h2{font-size:1.3rem;margin:2.2rem 0 .6rem;padding-top:.6rem;border-top:2px solid var(--rule)}
h3{font-size:1.05rem;margin:1.4rem 0 .4rem}
p,li{max-width:48rem;overflow-wrap:break-word}
a{color:var(--accent)}
nav ol{padding-left:1.3rem;columns:2;column-gap:2rem}
nav li{break-inside:avoid}
.note{color:var(--muted);font-size:.9rem}
.warn{background:#fff6e0;border-left:4px solid #e0a100;padding:.5rem .8rem}
.table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:0 0 1.2rem;
border:1px solid var(--rule);border-radius:4px}
table{border-collapse:collapse;font-size:.84rem;min-width:100%}
p.caption{color:var(--muted);font-size:.88rem;margin:1.2rem 0 .3rem}
th,td{padding:.32rem .6rem;border-bottom:1px solid var(--rule);text-align:right;
vertical-align:top;white-space:nowrap}
th{background:var(--band);font-weight:600}
th:first-child,td:first-child{text-align:left;position:sticky;left:0;background:#fff}
th:first-child{background:var(--band)}
td.text,th.text{text-align:left;white-space:normal;min-width:12rem}
td.left,th.left{text-align:left}
tbody tr:nth-child(even) td{background:#fbfbfc}
figure{margin:1rem 0 1.6rem}
figure img{display:block;max-width:100%;height:auto;border:1px solid var(--rule);
border-radius:4px}
figcaption{color:var(--muted);font-size:.85rem;margin-top:.35rem}
code{font-size:.85em;background:var(--band);padding:.05rem .25rem;border-radius:3px;
overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;font-size:.9rem}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
@media (max-width:640px){body{font-size:15px}main{padding:.6rem}h1{font-size:1.3rem}
nav ol{columns:1}table{font-size:.76rem}th,td{padding:.25rem .4rem}
dl{grid-template-columns:1fr}dt{margin-top:.4rem}}
@media print{h2{break-before:page}figure,table{break-inside:avoid}}
"""


@dataclass
class Block:
    kind: str  # heading, paragraph, note, warn, bullets, table, figure, definitions
    text: str = ""
    level: int = 2
    anchor: str = ""
    items: list[str] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    frame: pd.DataFrame | None = None
    text_columns: tuple[str, ...] = ()
    png: bytes = b""
    pending: Drawing | None = None  # a figure still being drawn (Document.plot)
    name: str = ""
    images: dict[str, bytes] = field(default_factory=dict)  # markdown: link -> PNG


@dataclass
class Document:
    """Headings, paragraphs, tables (already formatted as text) and figures, in order."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # name -> raw CSV table
    renderer: FigureRenderer | None = None  # draws `plot` figures (None: here, at once)

    def heading(self, text: str, level: int = 2) -> None:
        anchor = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
        self.blocks.append(Block("heading", text=text, level=level, anchor=anchor))

    def paragraph(self, text: str) -> None:
        self.blocks.append(Block("paragraph", text=text))

    def note(self, text: str) -> None:
        self.blocks.append(Block("note", text=text))

    def warn(self, text: str) -> None:
        self.blocks.append(Block("warn", text=text))

    def bullets(self, items: list[str]) -> None:
        self.blocks.append(Block("bullets", items=list(items)))

    def definitions(self, pairs: list[tuple[str, str]]) -> None:
        self.blocks.append(Block("definitions", pairs=list(pairs)))

    def table(self, frame: pd.DataFrame, caption: str, text_columns: tuple[str, ...] = (),
              csv: tuple[str, pd.DataFrame] | None = None) -> None:
        """A formatted table; `csv` = (file name, unformatted table) saved with the report."""
        self.blocks.append(Block("table", text=caption, frame=frame.astype(str),
                                 text_columns=text_columns))
        if csv is not None:
            self.tables[csv[0]] = csv[1]

    def figure(self, fig: Figure, name: str, caption: str) -> None:
        self.blocks.append(Block("figure", text=caption, png=png_bytes(fig), name=name))

    def plot(self, builder: Callable[..., Figure], args: Sequence[Any], name: str,
             caption: str) -> None:
        """The figure `builder(*args)` (a function of analysis/figures.py and picklable
        data), drawn by the document's renderer; `finish` waits for it."""
        if self.renderer is None:
            self.figure(builder(*args), name, caption)
            return
        self.blocks.append(Block("figure", text=caption, name=name,
                                 pending=self.renderer.submit(builder, args)))

    def finish(self) -> None:
        """Wait for the figures still being drawn (an error in one is raised here); draws
        those no worker has started yet here, from the last one back, while the workers go
        on from the first."""
        pending = [b for b in self.blocks if b.pending is not None]
        for b in reversed(pending):
            assert b.pending is not None
            b.pending.take_over()
        for b in pending:
            assert b.pending is not None
            b.png, b.pending = b.pending.png(), None

    def markdown(self, text: str, name: str, images: dict[str, bytes] | None = None) -> None:
        """A section written elsewhere in markdown (the robustness and optimisation folders'
        own reports), with its figures: `images` maps each image link of `text` to its PNG.
        The HTML embeds the figures; report.md links copies saved as `<name>-<file>`."""
        self.blocks.append(Block("markdown", text=text, name=name, images=dict(images or {})))

    @property
    def sections(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "heading" and b.level == 2]


# ----------------------------------------------------------------------------- inline markup
def _inline_html(text: str) -> str:
    """Escape, then `code` spans and **bold**."""
    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


_NUMERIC = re.compile(r"^\s*([-+−≥]\s?)?[\d∞–]")


def _numeric(column: pd.Series) -> bool:
    """Whether a formatted column holds numbers (right-aligned) rather than text."""
    cells = [str(v) for v in column if str(v).strip() not in ("", "–", "-", "·")]
    return bool(cells) and sum(bool(_NUMERIC.match(v)) for v in cells) >= 0.8 * len(cells)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_html(doc: Document) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f'<meta name="generator" content="{GENERATOR}">',
             f"<title>{html.escape(doc.title)}</title>", f"<style>{CSS}</style>", "</head>",
             "<body>", "<main>", f"<h1>{html.escape(doc.title)}</h1>"]
    toc = "".join(f'<li><a href="#{b.anchor}">{html.escape(b.text)}</a></li>'
                  for b in doc.sections)
    parts.append(f'<nav aria-label="contents"><ol>{toc}</ol></nav>')
    for b in doc.blocks:
        if b.kind == "heading":
            parts.append(f'<h{b.level} id="{b.anchor}">{html.escape(b.text)}</h{b.level}>')
        elif b.kind == "paragraph":
            parts.append(f"<p>{_inline_html(b.text)}</p>")
        elif b.kind == "note":
            parts.append(f'<p class="note">{_inline_html(b.text)}</p>')
        elif b.kind == "warn":
            parts.append(f'<p class="warn">{_inline_html(b.text)}</p>')
        elif b.kind == "bullets":
            parts.append("<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in b.items)
                         + "</ul>")
        elif b.kind == "definitions":
            parts.append("<dl>" + "".join(f"<dt>{html.escape(k)}</dt><dd>{_inline_html(v)}</dd>"
                                          for k, v in b.pairs) + "</dl>")
        elif b.kind == "table":
            assert b.frame is not None
            cls = {c: ' class="text"' for c in b.text_columns}
            cls.update({c: ' class="left"' for c in b.frame.columns
                        if c not in cls and not _numeric(b.frame[c])})
            head = "".join(f"<th{cls.get(c, '')} scope=\"col\">{html.escape(str(c))}</th>"
                           for c in b.frame.columns)
            rows = "".join("<tr>" + "".join(f"<td{cls.get(c, '')}>{_inline_html(v)}</td>"
                                            for c, v in zip(b.frame.columns, row, strict=True))
                           + "</tr>" for row in b.frame.itertuples(index=False))
            # the caption sits outside the scrolling box so that it wraps on a phone
            parts.append(f'<p class="caption">{_inline_html(b.text)}</p>'
                         f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
                         f"<tbody>{rows}</tbody></table></div>")
        elif b.kind == "markdown":
            parts.append(_markdown_html(b))
        elif b.kind == "figure":
            data = base64.b64encode(b.png).decode("ascii")
            parts.append(f'<figure id="fig-{b.name}"><img src="data:image/png;base64,{data}" '
                         f'alt="{html.escape(b.text)}" loading="lazy">'
                         f"<figcaption>{_inline_html(b.text)}</figcaption></figure>")
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def render_markdown(doc: Document, assets: str) -> str:
    lines = [f"<!-- {GENERATOR}: written by `python run.py report` -->", "",
             f"# {doc.title}", "", "Contents: " + " · ".join(
        f"[{b.text}](#{b.anchor})" for b in doc.sections), ""]
    for b in doc.blocks:
        if b.kind == "heading":
            lines += ["#" * b.level + " " + b.text, ""]
        elif b.kind in ("paragraph", "note"):
            lines += [b.text if b.kind == "paragraph" else f"*{b.text}*", ""]
        elif b.kind == "warn":
            lines += [f"> **Note.** {b.text}", ""]
        elif b.kind == "bullets":
            lines += [f"- {i}" for i in b.items] + [""]
        elif b.kind == "definitions":
            lines += [f"- **{k}**: {v}" for k, v in b.pairs] + [""]
        elif b.kind == "table":
            assert b.frame is not None
            cols = [str(c) for c in b.frame.columns]
            align = ["---" if c in b.text_columns or k == 0 or not _numeric(b.frame[c])
                     else "---:" for k, c in enumerate(cols)]
            lines += [f"*{b.text}*", "", "| " + " | ".join(_md_cell(c) for c in cols) + " |",
                      "| " + " | ".join(align) + " |"]
            lines += ["| " + " | ".join(_md_cell(str(v)) for v in row) + " |"
                      for row in b.frame.itertuples(index=False)]
            lines.append("")
        elif b.kind == "figure":
            lines += [f"![{b.text}]({assets}/{b.name}.png)", "", f"*{b.text}*", ""]
        elif b.kind == "markdown":
            text = b.text
            for link in b.images:
                text = text.replace(f"]({link})", f"]({assets}/{_image_file(b, link)})")
            lines += [text.rstrip(), ""]
    return "\n".join(lines)


def _image_file(b: Block, link: str) -> str:
    """File name in the report's _files folder of an image of a markdown block."""
    return f"{b.name}-{Path(link).name}"


def _markdown_html(b: Block) -> str:
    """A markdown block as HTML (tables extension), its images embedded as data URIs."""
    import markdown

    text = b.text
    for link, png in b.images.items():
        data = base64.b64encode(png).decode("ascii")
        text = text.replace(f"]({link})", f"](data:image/png;base64,{data})")
    body = markdown.markdown(text, extensions=["tables"])
    # wide tables scroll on a phone, as the report's own tables do
    return body.replace("<table>", '<div class="table-wrap"><table>') \
        .replace("</table>", "</table></div>")


# ----------------------------------------------------------------------------- writing
GENERATOR = "poverty-return report"
"""Written into every report.html and report.md, so that a later `report` knows the file is
its own (and replaces it only with --replace) and never overwrites a user's file."""


def _ours(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return GENERATOR.encode() in fh.read(4096)
    except OSError:
        return False


def check_output(html_path: Path, replace: bool = False) -> None:
    """Fail early (before any work) on a report path that cannot or must not be written: a
    file this program did not write is never replaced; its own earlier report only with
    `replace`."""
    html_path = Path(html_path)
    if html_path.suffix.lower() not in (".html", ".htm"):
        raise OutputError(f"{html_path}: the report file must end in .html")
    if html_path.is_dir():
        raise OutputError(f"{html_path}: is a folder; give a file name ending in .html")
    for parent in (html_path.parent, *html_path.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"{parent}: exists and is not a folder")
            break
    for path in (html_path, html_path.with_suffix(".md")):
        if not (path.exists() or path.is_symlink()):
            continue
        if not path.is_file() or path.is_symlink() or not _ours(path):
            raise OutputError(f"{path}: exists and was not written by this program; nothing "
                              "was changed — choose another --out")
        if not replace:
            raise OutputError(f"{path}: holds an earlier report; add --replace to replace it, "
                              "or choose another --out")
    check_replaceable(_assets(html_path), replace=replace)


def _assets(html_path: Path) -> Path:
    return html_path.parent / f"{html_path.stem}_files"


def write_document(doc: Document, html_path: Path, replace: bool = False
                   ) -> tuple[Path, Path, Path]:
    """Write <name>.html (self-contained), <name>.md and <name>_files/ (figures as PNG, tables
    as CSV), each atomically. Returns the three paths."""
    html_path = Path(html_path)
    check_output(html_path, replace)
    doc.finish()
    md_path = html_path.with_suffix(".md")
    assets = _assets(html_path)
    with OutputFolder(assets, kind="report files", replace=replace) as folder:
        for b in doc.blocks:
            if b.kind == "figure":
                (folder.path / f"{b.name}.png").write_bytes(b.png)
            for link, png in b.images.items():
                (folder.path / _image_file(b, link)).write_bytes(png)
        for name, frame in doc.tables.items():
            frame.to_csv(folder.path / name, index=False)
    try:
        atomic_write_text(md_path, render_markdown(doc, assets.name))
        atomic_write_text(html_path, render_html(doc))
    except OSError as exc:
        raise OutputError(f"{html_path}: cannot write the report ({exc.strerror or exc})") \
            from None
    add_entries(html_path.parent, [html_path.name, md_path.name, assets.name])
    return html_path, md_path, assets
