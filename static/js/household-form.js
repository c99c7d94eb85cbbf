// The household form at the keyboard: each ID checked as soon as it is typed (by the server's own
// rule, /households/id-check/, not a copy of it here), what a new member owes shown before saving (/api/quote/, the
// policy's figures; identities come with a registered person, so a new member is quoted as an
// ordinary resident), the reason note only where the reason needs one, the focus on the first
// wrong field after a refused save, a warning before leaving unsaved changes, and a draft kept
// in this tab (sessionStorage: gone when the tab closes, so no ID numbers stay on a shared PC).
(function () {
  "use strict";
  var form = document.querySelector("form[data-household-form]");
  if (!form) return;
  var needsNote = (form.getAttribute("data-needs-note") || "").split(",").filter(Boolean);
  var county = form.getAttribute("data-county"), year = form.getAttribute("data-year");
  var draftKey = "canbao-household-draft:" + location.pathname + location.search;
  var dirty = false, submitting = false;

  function rowOf(el) { return el.closest("[data-formset-row]"); }
  function field(row, suffix) { return row.querySelector("[name$='-" + suffix + "']"); }
  function text(el, s, bad) { el.textContent = s; el.classList.toggle("error", !!bad); el.classList.toggle("muted", !bad); }

  // --- The reason note, only where it is needed --------------------------------------------------
  function showNote(row) {
    var sel = field(row, "participation"), box = row.querySelector("[data-reason-note]");
    if (!sel || !box) return;
    var needed = needsNote.indexOf(sel.value) >= 0, note = field(row, "reason_note");
    box.hidden = !needed && !(note && note.value);
  }

  // --- ID number: checked as typed ----------------------------------------------------------------
  function normalise(s) { return s.replace(/\s/g, ""); }
  var timers = new WeakMap();
  function checkId(input, final) {
    var row = rowOf(input), hint = row.querySelector("[data-id-hint]"), id = normalise(input.value);
    if (!hint || submitting) return;  // the save checks everything again
    if (!id) { delete input.dataset.checked; text(hint, "", false); input.removeAttribute("aria-invalid"); updateOwed(row, null); return; }
    if (id.length < 18 && !final) { text(hint, "已输入" + id.length + "位", false); return; }
    if (input.dataset.checked === id) return;  // typed then left the box: asked once, not twice
    input.dataset.checked = id;
    var url = form.getAttribute("data-id-check") + "?id_number=" + encodeURIComponent(id) + (row.dataset.person ? "&person=" + row.dataset.person : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        text(hint, d.message, !d.ok);
        if (d.ok) { input.removeAttribute("aria-invalid"); updateOwed(row, d.birth_date); }
        else { input.setAttribute("aria-invalid", "true"); updateOwed(row, null); }
      })
      .catch(function () { text(hint, "暂时无法联网检查，保存时会再检查。", false); });
  }

  // --- What a new member owes, before saving ------------------------------------------------------
  function today() {  // as paid now, in the clerk's own day
    var d = new Date(), pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }
  function updateOwed(row, birth) {
    var cell = row.querySelector("[data-owed-live]");
    if (!cell) return;  // a registered member: the server already shows it
    if (birth) row.dataset.birth = birth;
    birth = birth === null ? "" : row.dataset.birth || "";
    var part = field(row, "participation"), tier = field(row, "tier");
    var student = field(row, "is_student"), deceased = field(row, "is_deceased");
    if (!birth || !county) { delete row.dataset.quoted; cell.textContent = "填写身份证号码后显示"; return; }
    if ((part && part.value !== "enrol") || (deceased && deceased.checked)) { delete row.dataset.quoted; cell.textContent = "不参保，无需缴费"; return; }
    var q = "?county=" + county + "&year=" + year + "&tier=" + (tier ? tier.value : 1) + "&birth_date=" + birth +
      "&student=" + (student && student.checked ? "true" : "false") + "&paid_on=" + today();
    if (row.dataset.quoted === q) return;  // the same question: the answer is on screen
    row.dataset.quoted = q;
    fetch(form.getAttribute("data-quote") + q, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, d: d }; }); })
      .then(function (res) {
        if (!res.ok) { cell.textContent = res.d.detail || "无法计算"; return; }
        cell.innerHTML = "";
        var strong = document.createElement("strong"); strong.textContent = res.d.self_pay; cell.appendChild(strong);
        cell.appendChild(document.createTextNode(" 元"));
        var why = document.createElement("span"); why.className = "small muted";
        why.textContent = "按普通居民计算，未保存";
        cell.appendChild(document.createElement("br")); cell.appendChild(why);
      })
      .catch(function () { cell.textContent = "保存后显示"; });
  }

  // --- Draft and leaving --------------------------------------------------------------------------
  function snapshot() {
    var rows = form.querySelectorAll("[data-formset-rows] [data-formset-row]").length;
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.name === "csrfmiddlewaretoken") return;
      values[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    return { rows: rows, values: values, at: new Date().toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit" }) };
  }
  var saveTimer = null;
  function markDirty() {
    dirty = true;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(function () { try { sessionStorage.setItem(draftKey, JSON.stringify(snapshot())); } catch (e) { /* storage full or off */ } }, 400);
  }
  function restore(draft) {
    var add = form.querySelector("[data-formset-add]");
    while (form.querySelectorAll("[data-formset-rows] [data-formset-row]").length < draft.rows && add) add.click();
    Object.keys(draft.values).forEach(function (name) {
      var el = form.elements[name]; if (!el || el.type === "hidden") return;
      if (el.type === "checkbox") el.checked = !!draft.values[name]; else el.value = draft.values[name];
    });
    form.querySelectorAll("[data-formset-row]").forEach(function (row) {
      showNote(row); var id = field(row, "id_number"); if (id && id.value) checkId(id, true);
    });
    dirty = true;
  }
  var refused = form.querySelector(".has-error, .msg-error, .errorlist");
  var stored = null; try { stored = JSON.parse(sessionStorage.getItem(draftKey) || "null"); } catch (e) { stored = null; }
  if (stored && !refused) {
    var bar = document.createElement("div"); bar.className = "msg msg-warning"; bar.setAttribute("role", "status");
    bar.appendChild(document.createTextNode("本页有 " + stored.at + " 未保存的草稿。"));
    var yes = document.createElement("button"); yes.type = "button"; yes.className = "btn btn-small"; yes.textContent = "恢复草稿";
    var no = document.createElement("button"); no.type = "button"; no.className = "btn btn-small"; no.textContent = "丢弃";
    yes.addEventListener("click", function () { restore(stored); bar.remove(); });
    no.addEventListener("click", function () { sessionStorage.removeItem(draftKey); bar.remove(); });
    bar.appendChild(yes); bar.appendChild(document.createTextNode(" ")); bar.appendChild(no);
    form.parentNode.insertBefore(bar, form);
  } else if (refused) {
    dirty = true;  // the refused entries are on the page, not yet saved
  }
  form.addEventListener("submit", function () {
    submitting = true; sessionStorage.removeItem(draftKey);
    form.querySelectorAll("[data-id-input]").forEach(function (t) { clearTimeout(timers.get(t)); });
  });
  window.addEventListener("beforeunload", function (e) {
    if (dirty && !submitting) { e.preventDefault(); e.returnValue = ""; }
  });

  // --- Wiring -------------------------------------------------------------------------------------
  form.addEventListener("input", function (e) {
    markDirty();
    if (e.target.matches("[data-id-input]")) {
      var t = e.target; clearTimeout(timers.get(t)); timers.set(t, setTimeout(function () { checkId(t, false); }, 250));
    }
  });
  form.addEventListener("change", function (e) {
    markDirty();
    var row = rowOf(e.target); if (!row) return;
    if (e.target.matches("[data-id-input]")) checkId(e.target, true);
    if (e.target.matches("[data-participation]")) showNote(row);
    if (e.target.matches("[data-participation], [data-tier], [name$='-is_student'], [name$='-is_deceased']")) updateOwed(row);
  });
  form.querySelectorAll("[data-formset-row]").forEach(showNote);

  // After a refused save: the first wrong field, not the top of the page.
  var wrong = form.querySelector("td.has-error input:not([type=hidden]), td.has-error select, .field.has-error input, .field.has-error select");
  if (wrong) {
    var details = wrong.closest("details"); if (details) details.open = true;
    wrong.setAttribute("aria-invalid", "true");
    wrong.focus();
  }
})();
