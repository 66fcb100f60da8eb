// Runs core/web/static/charts.js against the vendored ECharts in Node, with the smallest stand-in for a page:
// the elements carrying data-chart (their specs read from stdin), drawn server-side as SVG (ECharts' ssr mode).
// Usage: node chart_harness.js ECHARTS_MIN_JS CHARTS_JS < specs.json ; prints [{hidden, renderer, svg}].
const path = process.argv[2], charts = process.argv[3];
const echarts = require(path);
echarts.setPlatformAPI({ measureText: (text) => ({ width: String(text).length * 12 }) });
const specs = JSON.parse(require("fs").readFileSync(0, "utf8"));
const made = [];
const elements = specs.map(s => ({ hidden: true, getAttribute: (n) => n === "data-chart" ? JSON.stringify(s) : null }));
global.window = {
  echarts: { init: (el, theme, opts) => { const c = echarts.init(null, theme, { renderer: opts.renderer, ssr: true, width: 640, height: 320 }); made.push({ el, c, opts }); return c; } },
  getComputedStyle: () => ({ fontFamily: "Noto Sans CJK SC" }),
  addEventListener: () => {},
};
global.document = { readyState: "complete", body: {}, querySelectorAll: (q) => q === "[data-chart]" ? elements : [] };
require(charts);
console.log(JSON.stringify(made.map(m => ({ hidden: m.el.hidden, renderer: m.opts.renderer, svg: m.c.renderToSVGString() }))));
process.exit(0);
