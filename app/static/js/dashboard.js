/* Dashboard (/dashboard/): draws the two charts with the local Apache ECharts from the JSON in
 * the data-dashboard attribute of #dashboard-data. The same figures are in the page's tables,
 * so without JavaScript (or without ECharts) nothing is lost. No inline script, no external
 * assets: this file works under a Content-Security-Policy of script-src 'self'. */
(function () {
  "use strict";

  var holder = document.getElementById("dashboard-data");
  if (!holder || !window.echarts) {
    return;
  }
  var data;
  try {
    data = JSON.parse(holder.getAttribute("data-dashboard") || "{}");
  } catch (error) {
    return;
  }
  var titles = data.titles || {};
  var locale = data.locale === "EN" ? "EN" : "ZH";
  var charts = [];

  function percent(value) {
    return value === null || value === undefined ? "—" : value + "%";
  }

  function count(value) {
    return value === null || value === undefined ? "—" : String(value);
  }

  function draw(id, option) {
    var element = document.getElementById(id);
    if (!element) {
      return;
    }
    element.style.height = "380px";
    element.style.width = "100%";
    var chart = window.echarts.init(element, null, { locale: locale, renderer: "canvas" });
    chart.setOption(option);
    charts.push(chart);
  }

  function seriesOf(list, build) {
    var result = [];
    for (var i = 0; i < list.length; i += 1) {
      result.push(build(list[i]));
    }
    return result;
  }

  var rates = data.rates || { categories: [], series: [] };
  draw("dashboard-rates-chart", {
    aria: { enabled: true },
    title: { text: titles.rates || "", left: "center", textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: percent },
    legend: { bottom: 0 },
    grid: { left: 8, right: 16, top: 40, bottom: 40, containLabel: true },
    xAxis: {
      type: "category",
      data: rates.categories,
      axisLabel: { interval: 0, rotate: rates.categories.length > 4 ? 30 : 0 },
    },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: seriesOf(rates.series, function (s) {
      return { name: s.name, type: "bar", data: s.data, barMaxWidth: 24 };
    }),
  });

  var trend = data.trend || { months: [], series: [] };
  draw("dashboard-trend-chart", {
    aria: { enabled: true },
    title: { text: titles.trend || "", left: "center", textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis", valueFormatter: count },
    legend: { bottom: 0 },
    grid: { left: 8, right: 16, top: 40, bottom: 40, containLabel: true },
    xAxis: { type: "category", data: trend.months, boundaryGap: false },
    yAxis: { type: "value", minInterval: 1 },
    series: seriesOf(trend.series, function (s) {
      return {
        name: s.name,
        type: "line",
        data: s.data,
        connectNulls: false,
        symbolSize: 6,
        lineStyle: s.key === "planned" ? { type: "dashed" } : {},
      };
    }),
  });

  window.addEventListener("resize", function () {
    for (var i = 0; i < charts.length; i += 1) {
      charts[i].resize();
    }
  });
})();
