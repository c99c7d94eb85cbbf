// The public calculator: recompute through /api/quote/ as the resident types.
// The form also works without JavaScript (it submits and the server renders the answer).
(function () {
  "use strict";
  var form = document.getElementById("quote-form");
  var out = document.getElementById("quote-result");
  if (!form || !out || !window.fetch) return;
  var api = form.getAttribute("data-quote-api");
  var timer = null;

  function params() {
    var data = new FormData(form);
    var q = new URLSearchParams();
    var cats = [];
    data.forEach(function (value, key) {
      if (key === "categories") { cats.push(value); return; }
      if (value === "" || value === null) return;
      if (key === "student" || key === "parent_insured" || key === "zero_claim_last_year") { q.set(key, "true"); return; }
      q.set(key, value);
    });
    if (cats.length) q.set("categories", cats.join(","));
    return q;
  }

  function text(el, value) { if (el) el.textContent = value; }

  function render(d) {
    var rows = [
      ["缴费标准", d.standard + " 元"],
      ["资助金额", d.subsidy + " 元"],
      ["个人应缴", d.self_pay + " 元"],
      ["按哪项资助", d.category ? d.category.name : "无资助"]
    ];
    if (d.benefit_start) {
      var p = d.benefit_start.split("-");
      rows.push(["待遇享受开始", p[0] + "年" + Number(p[1]) + "月" + Number(p[2]) + "日"]);
      rows.push(["依据", d.benefit_reason || ""]);
    }
    if (d.birth_year) {
      rows.push(["出生当年（" + d.birth_year + "年度）" + (d.birth_year_must_pay ? "须同时缴纳" : "可补缴"),
                 d.birth_year_self_pay ? d.birth_year_self_pay + " 元" : "—"]);
    }
    if (d.incentive_raise !== undefined && d.incentive_raise !== null) {
      rows.push(["大病保险最高支付限额提高", d.incentive_raise + " 元"]);
    }
    out.textContent = "";
    var h = document.createElement("h2");
    text(h, d.county_name + " " + d.year + "年度");
    out.appendChild(h);
    var table = document.createElement("table");
    rows.forEach(function (r, i) {
      var tr = document.createElement("tr");
      var th = document.createElement("th"); text(th, r[0]);
      var td = document.createElement("td"); text(td, r[1]);
      if (i < 3) td.className = "num";
      if (i === 2) td.classList.add("big");
      tr.appendChild(th); tr.appendChild(td); table.appendChild(tr);
    });
    out.appendChild(table);
    (d.notes || []).forEach(function (n) {
      var p = document.createElement("p"); p.className = "muted"; text(p, n); out.appendChild(p);
    });
  }

  function showError(msg) {
    out.textContent = "";
    var p = document.createElement("p");
    p.className = "msg msg-error";
    p.setAttribute("role", "alert");
    text(p, msg);
    out.appendChild(p);
  }

  function recompute() {
    fetch(api + "?" + params().toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (res.ok) { render(res.body); return; }
        var b = res.body || {};
        var msg = b.detail || Object.keys(b).map(function (k) { return [].concat(b[k]).join(" "); }).join(" ");
        showError(msg || "无法计算，请检查填写的内容。");
      })
      .catch(function () { /* keep the server-rendered answer */ });
  }

  form.addEventListener("input", function (e) {
    if (e.target.matches("[data-autosubmit]")) return;
    clearTimeout(timer);
    timer = setTimeout(recompute, 250);
  });
  form.addEventListener("change", function (e) {
    if (e.target.matches("[data-autosubmit]")) return;
    clearTimeout(timer);
    timer = setTimeout(recompute, 50);
  });
})();
