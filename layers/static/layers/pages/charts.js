/* Bar charts of the dataset and leaders' pages, drawn by the vendored Chart.js (static/vendor/chartjs).
 *
 * Each <canvas data-chart="ID"> reads its data from the JSON element #ID that the page wrote with the same
 * figures as its table (layers/pages/summary_table.py: labels, datasets, stacked, unit, digits, locale, axis).
 * Numbers are written as the page's language writes them (Intl, e.g. vi-VN "1.234,5 ha"). No animation: the
 * chart is there as soon as the page is.
 */
(function () {
  "use strict";
  var COLOURS = ["#0b5394", "#e69138", "#6aa84f", "#cc0000", "#674ea7", "#45818e", "#f1c232", "#a64d79",
                 "#3d85c6", "#b45f06", "#38761d", "#990000", "#351c75", "#134f5c", "#bf9000", "#741b47",
                 "#76a5af", "#c27ba0", "#8e7cc3", "#93c47d", "#f6b26b", "#e06666", "#6fa8dc", "#999999"];
  var HORIZONTAL_FROM = 20;

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var number = new Intl.NumberFormat(spec.locale, {maximumFractionDigits: spec.digits});
    var withUnit = function (value) { return number.format(value) + (spec.unit ? "\u00a0" + spec.unit : ""); };
    var datasets = spec.datasets.map(function (series, i) {
      return {label: series.label, data: series.data, backgroundColor: COLOURS[i % COLOURS.length]};
    });
    // Many units (the 103 wards) read better as horizontal bars, one line each, than as 103 slanted labels.
    var horizontal = spec.labels.length > HORIZONTAL_FROM;
    if (horizontal) {
      canvas.parentNode.style.height = (spec.labels.length * 16 + 90) + "px";
    }
    // A legend of many categories (the national land-use codes) takes rows of its own: give them room, so the
    // bars of a small panel are not squeezed to nothing.
    var legendRows = spec.stacked ? Math.ceil(datasets.length / 6) : 0;
    if (!horizontal && legendRows > 1) {
      canvas.parentNode.style.height = (canvas.parentNode.clientHeight + legendRows * 22) + "px";
    }
    var unitAxis = {stacked: spec.stacked, ticks: {autoSkip: false, maxRotation: 60}};
    var valueAxis = {stacked: spec.stacked, beginAtZero: true, title: {display: !!spec.axis, text: spec.axis},
                     ticks: {callback: function (value) { return number.format(value); }}};
    new Chart(canvas, {
      type: "bar",
      data: {labels: spec.labels, datasets: datasets},
      options: {
        indexAxis: horizontal ? "y" : "x",
        locale: spec.locale,
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: horizontal ? {x: valueAxis, y: unitAxis} : {x: unitAxis, y: valueAxis},
        plugins: {
          legend: {display: spec.stacked, labels: {boxWidth: legendRows > 1 ? 12 : 40}},
          tooltip: {callbacks: {label: function (item) {
            var value = horizontal ? item.parsed.x : item.parsed.y;
            return (spec.stacked ? item.dataset.label + ": " : "") + withUnit(value);
          }}}
        }
      }
    });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());
