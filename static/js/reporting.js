/* Progress charts (ECharts, vendored in static/vendor/echarts). Data comes from a
   <script type="application/json"> block rendered by json_script; no inline script (CSP). */
(function () {
  "use strict";
  if (typeof window.echarts === "undefined") return;

  function pct(v) { return v === null || v === undefined ? "—" : v.toFixed(1) + "%"; }
  // "2024-10-05" → "10月5日", as people read dates.
  function dayLabel(v) { var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v || ""); return m ? (+m[2]) + "月" + (+m[3]) + "日" : v; }
  function readData(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }
  function targetLines(data) {
    var lines = [];
    if (data.phase !== null && data.phase !== undefined) lines.push({ yAxis: data.phase, name: data.phase_name || "阶段目标", label: { formatter: "阶段目标\n" + pct(data.phase) } });
    if (data.target !== null && data.target !== undefined && data.target !== data.phase) lines.push({ yAxis: data.target, name: "总体目标", label: { formatter: "总体目标\n" + pct(data.target) } });
    return lines;
  }
  var base = {
    tooltip: { trigger: "axis", valueFormatter: pct },
    grid: { left: 48, right: 88, top: 40, bottom: 40 },
    yAxis: { type: "value", min: 0, axisLabel: { formatter: "{value}%" } },
    animation: false
  };

  var builders = {
    trend: function (data) {
      var mark = { silent: true, symbol: "none", lineStyle: { type: "dashed", color: "#b3261e" }, data: targetLines(data) };
      return Object.assign({}, base, {
        legend: { top: 0 },
        xAxis: { type: "category", data: data.dates, boundaryGap: false, axisLabel: { formatter: dayLabel } },
        series: [
          { name: "已入库参保率", type: "line", data: data.confirmed_rate, showSymbol: false, lineStyle: { width: 3 }, color: "#1f6f5c", markLine: mark },
          { name: "已申报", type: "line", data: data.declared_rate, showSymbol: false, color: "#1d5fa8" },
          { name: "已收款", type: "line", data: data.collected_rate, showSymbol: false, color: "#d98a00" }
        ]
      });
    },
    children: function (data) {
      return Object.assign({}, base, {
        legend: { type: "scroll", top: 0 },
        xAxis: { type: "category", data: data.dates, boundaryGap: false, axisLabel: { formatter: dayLabel } },
        series: data.children.map(function (c) { return { name: c.name, type: "line", data: c.data, showSymbol: false, connectNulls: true }; })
      });
    }
  };

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var data = readData(el.getAttribute("data-source"));
    var build = builders[el.getAttribute("data-chart")];
    if (!data || !build) return;
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(build(data));
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
})();
