"""The prompt evaluation report (`whyrec prompts eval --report`): metrics side by side and the example
pairs where the versions differ, as Markdown or HTML."""

from __future__ import annotations

import html
from pathlib import Path


def example_pairs(cases, examples, names) -> list[dict]:
    out = []
    for lang in ("zh", "en"):
        for n, case in enumerate(cases):
            row = {"case": case["name"], "lang": lang}
            for name in names:
                e = examples[name][lang][n].explanation
                row[name] = e.text + (" [fallback]" if e.fallback_used else "")
            out.append(row)
    changed = [p for p in out if len({p[n] for n in names}) > 1]
    return changed + [p for p in out if p not in changed]


def write_report(path: Path, names, columns, metric_rows, pairs) -> None:
    headers = ["metric", *columns]
    rows = [[label, *(fmt.format(v[key]) for v in columns.values())] for key, label, fmt in metric_rows]
    if path.suffix == ".html":
        def cells(tag, values):
            return "".join(f"<{tag}>{html.escape(str(v))}</{tag}>" for v in values)

        body = [f"<h1>Prompt evaluation: {html.escape(' vs '.join(names))}</h1>", "<table>",
                f"<tr>{cells('th', headers)}</tr>", *(f"<tr>{cells('td', r)}</tr>" for r in rows), "</table>",
                "<h2>Example pairs</h2><table>", f"<tr>{cells('th', ['case', 'lang', *names])}</tr>",
                *(f"<tr>{cells('td', [p['case'], p['lang'], *(p[n] for n in names)])}</tr>" for p in pairs),
                "</table>"]
        path.write_text("<!doctype html><meta charset='utf-8'><title>whyrec prompt eval</title>"
                        "<style>td,th{border:1px solid #ccc;padding:4px}table{border-collapse:collapse}</style>"
                        + "\n".join(body), encoding="utf-8")
        return
    lines = [f"# Prompt evaluation: {' vs '.join(names)}", "", "| " + " | ".join(headers) + " |",
             "|" + "---|" * len(headers), *("| " + " | ".join(r) + " |" for r in rows), "", "## Example pairs", "",
             "| case | lang | " + " | ".join(names) + " |", "|" + "---|" * (2 + len(names)),
             *(f"| {p['case']} | {p['lang']} | " + " | ".join(p[n].replace("|", "\\|") for n in names) + " |"
               for p in pairs)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
