// Keyboard-first review: Tab moves, Enter accepts the field and jumps to the next doubtful
// one, typing replaces the value, Esc restores it, Ctrl+Enter approves. Values are checked
// while typing with validate.js (the server checks them again on approve).
(function () {
  "use strict";
  var form = document.getElementById("approve-form");
  if (!form) return;
  var V = window.KyodoValidate;
  var inputs = Array.prototype.slice.call(form.querySelectorAll("input[data-type], select[data-type]"));
  var approveBtn = document.getElementById("approve");

  function row(el) { return el.closest("tr.field"); }
  function hint(el) { return row(el).querySelector(".hint"); }
  function boxesFor(key) { return document.querySelectorAll('.box[data-key="' + CSS.escape(key) + '"]'); }

  function check(el) {
    if (el.type === "checkbox" || el.readOnly || el.disabled) return true;
    if (el.tagName === "SELECT") {  // a choice: only a listed value is accepted (the server checks again)
      var o = el.options[el.selectedIndex];
      var ok = !!o && !o.hasAttribute("data-unlisted");
      row(el).classList.toggle("invalid", !ok);
      el.setAttribute("aria-invalid", ok ? "false" : "true");
      hint(el).classList.toggle("bad", !ok);
      hint(el).textContent = ok ? "" : "選択肢から選んでください";
      return ok;
    }
    var r = V.validate(el.dataset.type, el.value);
    var h = hint(el);
    var tr = row(el);
    tr.classList.toggle("invalid", !r.ok);
    el.setAttribute("aria-invalid", r.ok ? "false" : "true");
    h.classList.toggle("bad", !r.ok);
    if (!r.ok) { h.textContent = r.message; return false; }
    if (el.dataset.type === "date_wareki" && r.value) {
      var p = r.value.split("-").map(Number);
      h.textContent = "＝ " + V.toWareki(p) + "（" + r.value + "）";
    } else if (el.dataset.type === "my_number") {
      h.textContent = "チェックデジット一致";
    } else if (r.value !== null && r.value !== el.value.trim() && r.value !== "") {
      h.textContent = "＝ " + r.value;
    } else {
      h.textContent = "";
    }
    return true;
  }

  function next(el) {
    var i = inputs.indexOf(el);
    for (var j = i + 1; j < inputs.length; j++) {
      var tr = row(inputs[j]);
      if (tr.classList.contains("doubtful") && !tr.classList.contains("accepted") && !inputs[j].disabled) return inputs[j];
    }
    for (var k = 0; k < inputs.length; k++) {
      var t = row(inputs[k]);
      if (t.classList.contains("doubtful") && !t.classList.contains("accepted") && inputs[k] !== el) return inputs[k];
    }
    return approveBtn;
  }

  function activate(el, on) {
    row(el).classList.toggle("active", on);
    boxesFor(row(el).dataset.key).forEach(function (b) {
      b.classList.toggle("active", on);
      if (on) b.scrollIntoView({ block: "nearest", inline: "nearest" });
    });
  }

  inputs.forEach(function (el) {
    el.addEventListener("focus", function () {
      activate(el, true);
      if (el.type === "text") el.select();
    });
    el.addEventListener("blur", function () { activate(el, false); });
    if (el.type === "text" || el.tagName === "SELECT") {
      el.addEventListener(el.tagName === "SELECT" ? "change" : "input", function () { row(el).classList.remove("accepted"); check(el); });
    }
    el.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) return; // handled on the form
      if (ev.key === "Enter") {
        ev.preventDefault();
        if (!check(el)) { el.select && el.select(); return; }
        row(el).classList.add("accepted");
        var n = next(el);
        if (n) n.focus();
      } else if (ev.key === "Escape" && (el.type === "text" || el.tagName === "SELECT")) {
        el.value = el.dataset.original || "";
        check(el);
        if (el.select) el.select();
      }
    });
    if ((el.type === "text" && el.value !== "") || el.tagName === "SELECT") check(el);
  });

  form.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); form.requestSubmit(approveBtn); }
  });
  form.addEventListener("submit", function (ev) {
    var bad = inputs.filter(function (el) { return !check(el); });
    if (bad.length) { ev.preventDefault(); bad[0].focus(); }
  });
  document.querySelectorAll(".box").forEach(function (b) {
    b.addEventListener("click", function () {
      var el = form.querySelector('tr.field[data-key="' + CSS.escape(b.dataset.key) + '"] [data-type]');
      if (el) el.focus();
    });
  });
  var first = form.querySelector("tr.field.doubtful [data-type]") || inputs[0];
  if (first && !first.readOnly) {
    // autofocus may have run before the handlers above: focus again so the value is selected
    if (document.activeElement === first) { activate(first, true); if (first.type === "text") first.select(); }
    else first.focus();
  }
})();
