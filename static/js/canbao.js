/* Small behaviours for every page. No inline scripts anywhere (CSP): pages use data- attributes. */
(function () {
  "use strict";

  // Mobile menu toggle: <button data-toggle="#id">
  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-toggle]");
    if (t) { var el = document.querySelector(t.getAttribute("data-toggle")); if (el) el.classList.toggle("open"); }
  });

  // Confirm before destructive actions: <form data-confirm="确定作废？">
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });

  // Print buttons: <button data-print>
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-print]")) { e.preventDefault(); window.print(); }
  });

  // Client-side sortable tables: <table data-sortable> with <th data-sort="num|text">
  function cellValue(row, idx, kind) {
    var cell = row.children[idx]; if (!cell) return "";
    var raw = cell.getAttribute("data-value"); if (raw === null) raw = cell.textContent.trim();
    if (kind === "num") { var n = parseFloat(raw.replace(/[,%元万\s]/g, "")); return isNaN(n) ? -Infinity : n; }
    return raw;
  }
  document.addEventListener("click", function (e) {
    var th = e.target.closest("table[data-sortable] th[data-sort]"); if (!th) return;
    var table = th.closest("table"), tbody = table.tBodies[0], idx = Array.prototype.indexOf.call(th.parentNode.children, th);
    var kind = th.getAttribute("data-sort"), asc = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, idx, kind), y = cellValue(b, idx, kind);
      var r = kind === "num" ? x - y : String(x).localeCompare(String(y), "zh-Hans-CN");
      return asc ? r : -r;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
  });

  // Dynamic formsets: <div data-formset="prefix"> with <template data-formset-template> and
  // <button data-formset-add>. Enter in any box or choice of the last row adds a row (a collector
  // types a member, picks the relation and presses Enter for the next one).
  function addFormRow(box) {
    var prefix = box.getAttribute("data-formset"), total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var tpl = box.querySelector("template[data-formset-template]"); if (!total || !tpl) return null;
    var index = parseInt(total.value, 10);
    var html = tpl.innerHTML.replace(/__prefix__/g, String(index));
    var holder = box.querySelector("[data-formset-rows]") || box;
    var tmp = document.createElement("tbody"); tmp.innerHTML = html.trim();
    var row = tmp.firstElementChild; holder.appendChild(row);
    total.value = index + 1;
    var rtable = row.closest("table.responsive"); if (rtable) labelTable(rtable);
    var first = row.querySelector("input:not([type=hidden]),select"); if (first) first.focus();
    return row;
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-formset-add]"); if (!b) return;
    e.preventDefault(); addFormRow(b.closest("[data-formset]"));
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || (e.target.tagName !== "INPUT" && e.target.tagName !== "SELECT")) return;
    var box = e.target.closest("[data-formset]"); if (!box) return;
    var rows = box.querySelectorAll("[data-formset-row]"); var row = e.target.closest("[data-formset-row]");
    if (row && rows.length && row === rows[rows.length - 1]) { e.preventDefault(); addFormRow(box); }
  });

  // Progress polling: <div data-progress-url="/api/..."> expects JSON {percent, status, message, done, redirect}
  document.querySelectorAll("[data-progress-url]").forEach(function (box) {
    var url = box.getAttribute("data-progress-url"), bar = box.querySelector(".progress > span"), text = box.querySelector("[data-progress-text]");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (d) {
          if (bar) bar.style.width = (d.percent || 0) + "%";
          if (text) text.textContent = d.message || ((d.percent || 0) + "%");
          if (d.done) { if (d.redirect) window.location = d.redirect; else window.location.reload(); }
          else setTimeout(tick, 1000);
        })
        .catch(function () { setTimeout(tick, 2000); });
    }
    tick();
  });

  // Auto-submit filters: <select data-autosubmit>
  document.addEventListener("change", function (e) {
    if (e.target.matches("[data-autosubmit]")) e.target.form.submit();
  });

  // Phone-friendly tables: <table class="responsive"> turns rows into cards under 720px; each
  // cell is labelled with its column header unless the template gave a data-label already.
  function labelTable(table) {
    var heads = table.tHead ? Array.prototype.map.call(table.tHead.rows[0].cells, function (th) { return th.textContent.trim(); }) : [];
    Array.prototype.forEach.call(table.tBodies, function (tb) {
      Array.prototype.forEach.call(tb.rows, function (tr) {
        var col = 0;
        Array.prototype.forEach.call(tr.cells, function (td) {
          if (!td.hasAttribute("data-label") && td.colSpan === 1 && heads[col]) td.setAttribute("data-label", heads[col]);
          col += td.colSpan;
        });
      });
    });
  }
  document.querySelectorAll("table.responsive").forEach(labelTable);

  // A table wider than its box scrolls inside .table-wrap: make the box reachable with Tab so a
  // keyboard user can scroll it too (WCAG 2.1.1), named by the nearest heading.
  function focusableScroll() {
    document.querySelectorAll(".table-wrap").forEach(function (w) {
      if (w.scrollWidth > w.clientWidth + 1 || w.scrollHeight > w.clientHeight + 1) {
        if (!w.hasAttribute("tabindex")) w.setAttribute("tabindex", "0");
        if (!w.hasAttribute("role")) w.setAttribute("role", "region");
        if (!w.hasAttribute("aria-label")) {
          var card = w.closest(".card, main"), h = card && card.querySelector("h2, h1");
          w.setAttribute("aria-label", (h ? h.textContent.trim() : "表格") + "（可左右滚动）");
        }
      }
    });
  }
  focusableScroll();
  window.addEventListener("resize", focusableScroll);

  // In filter forms an empty choice means "all": say so instead of "---------".
  document.querySelectorAll("form.filters select option[value='']").forEach(function (o) {
    if (/^-+$/.test(o.textContent.trim())) o.textContent = "全部";
  });
})();
