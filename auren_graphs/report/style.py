"""The report page's styles (inline: the page loads nothing)."""

from __future__ import annotations

CSS = """
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6475; --line: #e3e6ec; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: #f6f7f9; }
header, main, footer { max-width: 1000px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 28px 0 12px; }
h3 { font-size: 16px; margin: 0 0 6px; }
header p, footer p, figcaption, .age, .source { color: var(--muted); }
footer { padding-bottom: 32px; font-size: 13px; }
.chart, .chart-note, .finding, .empty, table { background: #fff; border: 1px solid var(--line);
  border-radius: 8px; }
.chart, .chart-note { padding: 14px 16px; margin: 0 0 16px; }
.chart svg { display: block; width: 100%; height: auto; }
figcaption { font-size: 13px; margin-top: 6px; }
.stale { background: #fff4e5; border: 1px solid #f0c27b; border-radius: 8px; padding: 10px 14px; }
.finding { padding: 12px 16px; margin: 0 0 12px; border-left: 5px solid #9aa4b5; }
.finding.watch { border-left-color: #d6a23c; }
.finding.alert { border-left-color: #b85450; }
.finding p { margin: 4px 0; }
.when { font-size: 13px; }
.badge { display: inline-block; font-size: 12px; padding: 0 8px; border-radius: 10px;
  background: #eef0f4; margin-left: 6px; }
.numbers { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 6px 0; font-size: 14px; }
.numbers dt { color: var(--muted); }
.numbers dd { margin: 0 0 0 -10px; font-variant-numeric: tabular-nums; }
.source { font-size: 13px; }
.grade { padding: 0 6px; border-radius: 4px; background: #eef0f4; }
.grade-E { background: #fde8e6; }
table { width: 100%; border-collapse: collapse; margin: 0 0 16px; font-size: 14px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); }
.empty { padding: 14px 18px; }
code { font-size: 13px; background: #eef0f4; padding: 1px 4px; border-radius: 4px; }
"""
