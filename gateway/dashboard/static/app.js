/* hotline-gateway dashboard: CSRF header for htmx, live countdowns, charts, confirmations.
   Loaded as a file (the Content-Security-Policy allows no inline script). */
(function () {
  "use strict";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx requests carry the session's CSRF token, like every form does in its hidden field.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrf();
  });

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function words(seconds) {
    var s = Math.abs(Math.floor(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (d ? d + "天" : "") + (d || h ? h + "小时" : "") + two(m) + "分" + two(r) + "秒";
  }

  // Countdowns tick every second from the due instant the server rendered (data-due, ISO-8601).
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      var left = (due - now) / 1000;
      var warnBelow = parseFloat(el.getAttribute("data-warn") || "3600");
      el.textContent = left >= 0 ? "剩余 " + words(left) : "已超时 " + words(left);
      el.classList.toggle("bad", left < 0);
      el.classList.toggle("warn", left >= 0 && left < warnBelow);
    });
  }

  var charts = {};
  var palette = ["#1f4e8c", "#2e7d32", "#c77700", "#8e24aa", "#00838f", "#c62828", "#6d4c41", "#546e7a"];

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas || typeof Chart === "undefined") { return; }
    if (charts[id] && charts[id].canvas === canvas) {
      charts[id].data = config.data;
      charts[id].update("none");
      return;
    }
    if (charts[id]) { charts[id].destroy(); }
    charts[id] = new Chart(canvas, config);
  }

  function renderCharts() {
    var source = document.getElementById("chart-data");
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var base = { responsive: true, maintainAspectRatio: false, animation: false,
                 plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } };
    draw("chart-open", { type: "bar", options: Object.assign({}, base, {
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }),
      data: { labels: data.open.labels, datasets: data.open.series.map(function (s, i) {
        return { label: s.label, data: s.data, backgroundColor: palette[i % palette.length] }; }) } });
    draw("chart-trend", { type: "line", options: Object.assign({}, base, {
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }),
      data: { labels: data.trend.labels, datasets: data.trend.series.map(function (s, i) {
        return { label: s.label, data: s.data, borderColor: palette[i % palette.length],
                 backgroundColor: palette[i % palette.length], tension: 0.25 }; }) } });
    draw("chart-timers", { type: "doughnut", options: base,
      data: { labels: data.timers.labels, datasets: [{ data: data.timers.data,
        backgroundColor: ["#2e7d32", "#c77700", "#c62828"] }] } });
  }

  // Buttons that change something for good ask first (data-confirm="…").
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  }, true);

  document.addEventListener("htmx:afterSwap", function () { tick(); renderCharts(); });
  document.addEventListener("DOMContentLoaded", function () {
    tick(); renderCharts(); window.setInterval(tick, 1000);
  });
})();
