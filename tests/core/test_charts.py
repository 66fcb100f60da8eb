"""Charts (core/templates/_charts.html, core/web/static/charts.js, vendored Apache ECharts): the macro renders
a figure with the numbers as a table and the spec in a data attribute; the script draws that spec with the
vendored ECharts (checked in Node where it is installed, as server-side SVG)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import render_template_string
from shangliang.core.app import create_app

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "core" / "web" / "static"
HARNESS = Path(__file__).with_name("chart_harness.js")

SPEC = {"type": "bar", "title": "议题 <按阶段> & '引号'", "label_header": "阶段",
        "labels": ["收集议题", "确定议题", "议前调研"],
        "series": [{"name": "议题数", "data": [2, 1, 0]}, {"name": "超期", "data": [1, 0, 0]}]}


@pytest.fixture
def app(make_node):
    app = create_app(make_node())
    yield app
    app.extensions["shangliang.db"].engine.dispose()


def _render(app, spec) -> str:
    with app.test_request_context("/"):
        return render_template_string('{% from "_charts.html" import chart, chart_scripts %}'
                                      '{{ chart("c1", spec) }}{{ chart_scripts() }}', spec=spec)


def _specs(html: str) -> list[dict]:
    return [json.loads(m) for m in re.findall(r"data-chart='([^']*)'", html)]


def test_the_macro_renders_a_figure_a_hidden_canvas_and_a_table(app):
    html = _render(app, SPEC)
    assert '<figure class="chart" id="c1-figure" aria-labelledby="c1-caption">' in html
    assert re.search(r'<div class="chart-canvas" id="c1" role="img" aria-label="[^"]+" hidden', html)
    assert _specs(html) == [SPEC]  # the attribute survives quotes, <, > and & in the data
    assert "<按阶段>" not in html  # and they never reach the page as markup
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td>\d+</td>)+)</tr>', html)
    assert [(label, re.findall(r"\d+", cells)) for label, cells in rows] == [
        ("收集议题", ["2", "1"]), ("确定议题", ["1", "0"]), ("议前调研", ["0", "0"])]
    assert '<th scope="col">议题数</th><th scope="col">超期</th>' in html
    assert re.findall(r'<script src="([^"]+)"></script>', html) == ["/static/vendor/echarts/echarts.min.js",
                                                                     "/static/charts.js"]


def test_an_empty_chart_says_so_in_its_table(app):
    html = _render(app, {"type": "pie", "title": "无", "labels": [], "series": [{"name": "n", "data": []}]})
    assert 'colspan="2"' in html and "<tbody>" in html


def test_the_vendored_library_is_complete_and_licensed():
    vendor = STATIC / "vendor" / "echarts"
    assert "Apache License" in (vendor / "LICENSE").read_text(encoding="utf-8")
    assert "Apache ECharts" in (vendor / "NOTICE").read_text(encoding="utf-8")
    assert (vendor / "LICENSE-d3").is_file()  # the LICENSE points to it for the d3 parts
    assert (vendor / "echarts.min.js").stat().st_size > 900_000  # the full build: bar, pie, aria, svg renderer


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed: the script is not run")
def test_the_script_draws_the_macros_spec_with_echarts(app):
    specs = _specs(_render(app, SPEC)) + [{"type": "donut", "title": "按地区", "labels": ["620302001 镇", "620302002"],
                                           "series": [{"name": "议题数", "data": [3, 1]}]}]
    done = subprocess.run(["node", str(HARNESS), str(STATIC / "vendor/echarts/echarts.min.js"),
                           str(STATIC / "charts.js")], input=json.dumps(specs), capture_output=True, text=True, check=False,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    bar, donut = json.loads(done.stdout)
    assert bar["hidden"] is False and bar["renderer"] == "svg"  # the canvas is shown once drawn
    for label in ("收集议题", "确定议题", "议前调研", "议题数", "超期"):  # axis labels and the legend
        assert label in bar["svg"], label
    heights = [float(h) for h in re.findall(r'<path d="M[\d.]+ [\d.]+l[\d.]+ 0l0 -([\d.]+)l', bar["svg"])]
    assert len(heights) == 3 and heights[0] == 2 * heights[1] > 0  # 2, 1 (first series), 1 (second)
    assert "620302001 镇: 3" in donut["svg"] and "620302002: 1" in donut["svg"]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed: the script is not run")
def test_stacked_bars_and_a_line_over_them_are_drawn(app):
    spec = {"type": "bar", "stack": True, "title": "按月", "label_header": "月份", "labels": ["1月", "2月"],
            "series": [{"name": "收集议题", "data": [2, 1]}, {"name": "确定议题", "data": [2, 0]},
                       {"name": "超期", "kind": "line", "data": [1, 3]}]}
    html = _render(app, spec)
    assert '<div class="table-scroll">' in html  # a wide table scrolls inside its own box
    done = subprocess.run(["node", str(HARNESS), str(STATIC / "vendor/echarts/echarts.min.js"),
                           str(STATIC / "charts.js")], input=json.dumps(_specs(html)), capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    (drawn,) = json.loads(done.stdout)
    svg = drawn["svg"]
    for label in ("1月", "2月", "收集议题", "确定议题", "超期"):
        assert label in svg, label
    bars = re.findall(r'<path d="M([\d.]+) ([\d.]+)l[\d.]+ 0l0 -([\d.]+)l', svg)
    assert len(bars) == 3  # 2+2 stacked in January (one column), 1 in February; none drawn for a zero
    january = sorted((float(y), float(h)) for x, y, h in bars if float(x) == float(bars[0][0]))
    assert len(january) == 2 and abs(january[0][0] + january[0][1] - january[1][0]) < 1  # one on top of the other
    assert re.search(r'<path d="M[\d. ]+L[\d. ]+"[^>]*fill="none"', svg)  # the line
