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

  // A form's result is shown next to that form (issue 13.2): the server renders it at the top with the
  // form's action (data-form) and what was sent (#flash-values); it moves into the form, a refused
  // form gets its text back, and the page scrolls to it. A form that is gone keeps it at the top.
  function asList(value) { return Array.isArray(value) ? value : [value]; }

  function sameHidden(form, values) {
    var inputs = form.querySelectorAll('input[type="hidden"]');
    for (var i = 0; i < inputs.length; i++) {
      var name = inputs[i].name;
      if (name && name !== "csrf_token" && Object.prototype.hasOwnProperty.call(values, name) &&
          asList(values[name]).indexOf(inputs[i].value) < 0) { return false; }
    }
    return true;
  }

  function restore(form, values) {
    Object.keys(values).forEach(function (name) {
      var wanted = asList(values[name]);
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name !== name || el.type === "file" || el.type === "hidden") { return; }
        if (el.type === "checkbox" || el.type === "radio") {
          el.checked = wanted.indexOf(el.value) >= 0;
        } else if (el.tagName === "SELECT") {
          Array.prototype.forEach.call(el.options, function (o) { o.selected = wanted.indexOf(o.value) >= 0; });
        } else {
          el.value = wanted[0];
        }
      });
    });
  }

  function placeFlash() {
    var flash = document.getElementById("flash");
    var action = flash && flash.getAttribute("data-form");
    if (!action) { return; }
    var source = document.getElementById("flash-values");
    var values = source ? JSON.parse(source.textContent) : {};
    var forms = Array.prototype.filter.call(document.querySelectorAll("form[action]"), function (f) {
      return f.getAttribute("action") === action;
    });
    var form = forms.filter(function (f) { return sameHidden(f, values); })[0] || forms[0];
    if (!form) { return; }
    var heading = form.querySelector("h3");
    if (heading && heading.parentNode === form) {
      form.insertBefore(flash, heading.nextSibling);
    } else {
      form.insertBefore(flash, form.firstChild);
    }
    flash.classList.add("in-form");
    if (flash.classList.contains("error")) { restore(form, values); }
    flash.scrollIntoView({ block: "center" });
  }

  // 全选 on the alerts page: checks every row's box.
  document.addEventListener("change", function (event) {
    if (event.target.id !== "alerts-all") { return; }
    document.querySelectorAll('input[name="ids"][form="form-alerts-ack"]').forEach(function (box) {
      box.checked = event.target.checked;
    });
  });

  document.addEventListener("htmx:afterSwap", function () { tick(); renderCharts(); });
  document.addEventListener("DOMContentLoaded", function () {
    placeFlash(); tick(); renderCharts(); window.setInterval(tick, 1000);
  });
})();
