// The cash desk (收款开票): the total of the ticked members at their chosen tiers, and 找零 for
// the 实收 typed, kept live as the clerk picks. The amounts are the server's (each row's
// data-owed: "tier=amount;…" from the policy); this only adds them up. Without JavaScript the
// page still works: the confirmation page shows the server's total and change.
(function () {
  "use strict";

  function cents(text) {
    var m = /^\s*(\d+)(?:\.(\d{0,2}))?\s*$/.exec(text || "");
    if (!m) return null;
    return parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10);
  }

  function yuan(c) {
    var sign = c < 0 ? "-" : "";
    c = Math.abs(c);
    var frac = String(c % 100);
    return sign + Math.floor(c / 100) + "." + (frac.length < 2 ? "0" + frac : frac);
  }

  var form = document.getElementById("pay-form");
  var totalOut = document.getElementById("pay-total");
  if (form && totalOut) {
    var countOut = document.getElementById("pay-count");
    var changeOut = document.getElementById("pay-change");
    var tendered = form.querySelector("input[name=tendered]");
    var next = document.getElementById("pay-next");

    var update = function () {
      var total = 0, count = 0;
      form.querySelectorAll("tr[data-pay-row]").forEach(function (row) {
        var box = row.querySelector("input[name=persons]");
        if (!box || !box.checked) return;
        var owed = {};
        (row.getAttribute("data-owed") || "").split(";").forEach(function (pair) {
          var kv = pair.split("=");
          if (kv.length === 2) owed[kv[0]] = cents(kv[1]);
        });
        var select = row.querySelector("select");
        var tier = select ? select.value : row.getAttribute("data-tier");
        var amount = owed[tier];
        if (amount === undefined || amount === null) amount = owed[row.getAttribute("data-tier")] || 0;
        total += amount;
        count += 1;
      });
      totalOut.textContent = yuan(total);
      if (countOut) countOut.textContent = String(count);
      var short = false;
      changeOut.textContent = "";
      var given = tendered ? tendered.value.trim() : "";
      if (given !== "") {
        var paid = cents(given);
        var span = document.createElement("span");
        if (paid === null) {
          span.className = "error";
          span.textContent = "实收金额格式不对，请填写数字，如 1000 或 840.50";
          short = true;
        } else if (paid < total) {
          span.className = "error";
          span.textContent = "实收 " + yuan(paid) + " 元少于应收合计 " + yuan(total) + " 元，不能开票";
          short = true;
        } else {
          span.appendChild(document.createTextNode("找零 "));
          var strong = document.createElement("strong");
          strong.className = "big";
          strong.textContent = yuan(paid - total);
          span.appendChild(strong);
          span.appendChild(document.createTextNode(" 元"));
        }
        changeOut.appendChild(span);
      }
      if (next) next.disabled = short || count === 0;
    };
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    update();
  }

  // The confirmation page: one click issues; a second click while the page is sending does nothing
  // (the server also issues one receipt per confirmation page, whatever arrives).
  document.querySelectorAll("form").forEach(function (f) {
    if (!f.querySelector("[data-once]")) return;
    f.addEventListener("submit", function () {
      setTimeout(function () {
        f.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
})();
