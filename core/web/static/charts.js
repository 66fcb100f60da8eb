/* Draws every element carrying data-chart with Apache ECharts (vendor/echarts/echarts.min.js, loaded
   before this file). The data is the macro's spec: {type, title, labels, stack, series: [{name, data, kind}]}.
   The table beside each chart stays: it is the chart for readers without script or sight. */
(function () {
  "use strict";
  if (typeof window.echarts === "undefined") { return; }
  var PALETTE = ["#b3261e", "#e8710a", "#f9ab00", "#1e8e3e", "#1a73e8", "#9334e6", "#5f6368", "#12b5cb"];

  function option(spec, font) {
    var series = spec.series || [];
    var base = {
      color: PALETTE,
      textStyle: { fontFamily: font },
      aria: { enabled: true },
      tooltip: { trigger: spec.type === "bar" ? "axis" : "item" },
      animation: false
    };
    if (spec.type === "pie" || spec.type === "donut") {
      var first = series[0] || { name: "", data: [] };
      base.legend = { type: "scroll", bottom: 0 };
      base.series = [{
        type: "pie", name: first.name, radius: spec.type === "donut" ? ["40%", "68%"] : "68%",
        center: ["50%", "45%"], label: { formatter: "{b}: {c}" },
        data: (spec.labels || []).map(function (label, i) { return { name: label, value: first.data[i] }; })
      }];
      return base;
    }
    base.grid = { left: 48, right: 16, top: series.length > 1 ? 36 : 16, bottom: 56, containLabel: true };
    if (series.length > 1) { base.legend = { top: 0 }; }
    base.xAxis = { type: "category", data: spec.labels || [], axisLabel: { interval: 0, rotate: (spec.labels || []).length > 6 ? 30 : 0 } };
    base.yAxis = { type: "value", minInterval: 1 };
    // A series with kind "line" is drawn as a line over the bars; spec.stack stacks the bars (a month's
    // topics by stage); spec.type "line" draws every series as a line.
    base.series = series.map(function (s) {
      var line = spec.type === "line" || s.kind === "line";
      var drawn = { type: line ? "line" : "bar", name: s.name, data: s.data };
      if (line) { drawn.symbolSize = 6; } else { drawn.barMaxWidth = 48; if (spec.stack) { drawn.stack = "total"; } }
      return drawn;
    });
    return base;
  }

  function draw() {
    var font = window.getComputedStyle(document.body).fontFamily;
    var charts = [];
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), function (el) {
      var spec;
      try { spec = JSON.parse(el.getAttribute("data-chart")); } catch (e) { return; }
      el.hidden = false;
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option(spec, font));
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
