// Mirror of automation/web/validators.py: the same checks while the clerk types.
// tests/web/test_validators.py runs both on the same cases; keep them in step.
(function () {
  "use strict";
  var ERAS = [
    ["令和", ["令和", "R"], [2019, 5, 1], [2099, 12, 31]],
    ["平成", ["平成", "H"], [1989, 1, 8], [2019, 4, 30]],
    ["昭和", ["昭和", "S"], [1926, 12, 25], [1989, 1, 7]],
    ["大正", ["大正", "T"], [1912, 7, 30], [1926, 12, 24]],
  ];
  var ERA_DATE = /^(令和|平成|昭和|大正|R|H|S|T)\s*(元|[0-9]{1,2})\s*[年.\-/]\s*([0-9]{1,2})\s*[月.\-/]\s*([0-9]{1,2})\s*日?$/;
  var ISO_DATE = /^([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?$/;
  var KANA = /^[\u30A1-\u30FA\u30FC\u30FB ]+$/;
  var PHONE = /^0[0-9]{1,4}-[0-9]{1,4}-[0-9]{3,4}$/;

  function res(ok, value, message) { return { ok: ok, value: value === undefined ? null : value, message: message || "" }; }
  function normaliseText(s) { return (s || "").normalize("NFKC").replace(/\s+/g, " ").trim(); }
  function digitsOf(s) { return s.replace(/[\s\-‐−ー]/g, ""); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function iso(y, m, d) { return String(y).padStart(4, "0") + "-" + pad(m) + "-" + pad(d); }
  function cmp(a, b) { return a[0] - b[0] || a[1] - b[1] || a[2] - b[2]; }
  function exists(y, m, d) {
    if (m < 1 || m > 12 || d < 1) return false;
    var dt = new Date(Date.UTC(y, m - 1, d));
    return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
  }

  function myNumberCheckDigit(first11) {
    var total = 0;
    for (var n = 1; n <= 11; n++) {
      var p = parseInt(first11.charAt(11 - n), 10);
      var q = n <= 6 ? n + 1 : n - 5;
      total += p * q;
    }
    var r = total % 11;
    return r <= 1 ? 0 : 11 - r;
  }

  function parseDate(s) {
    var m = ERA_DATE.exec(s);
    if (m) {
      var era = ERAS.filter(function (e) { return e[1].indexOf(m[1]) >= 0; })[0];
      var year = m[2] === "元" ? 1 : parseInt(m[2], 10);
      var mo = parseInt(m[3], 10), d = parseInt(m[4], 10), y = era[2][0] + year - 1;
      if (!exists(y, mo, d)) return [null, "存在しない日付です"];
      var v = [y, mo, d];
      if (cmp(v, era[2]) < 0 || cmp(v, era[3]) > 0) return [null, era[0] + year + "年" + mo + "月" + d + "日は" + era[0] + "の期間外です"];
      return [v, ""];
    }
    m = ISO_DATE.exec(s);
    if (m) {
      var yy = parseInt(m[1], 10), mm = parseInt(m[2], 10), dd = parseInt(m[3], 10);
      if (!exists(yy, mm, dd)) return [null, "存在しない日付です"];
      if (yy < 1900 || yy > 2100) return [null, "年が範囲外です"];
      return [[yy, mm, dd], ""];
    }
    return [null, "日付は「令和6年4月1日」または「2024-04-01」の形で入力してください"];
  }

  function toWareki(v) {
    for (var i = 0; i < ERAS.length; i++) {
      var e = ERAS[i];
      if (cmp(v, e[2]) >= 0 && cmp(v, e[3]) <= 0) {
        var y = v[0] - e[2][0] + 1;
        return e[0] + (y === 1 ? "元" : y) + "年" + v[1] + "月" + v[2] + "日";
      }
    }
    return iso(v[0], v[1], v[2]);
  }

  function validate(type, raw) {
    if (type === "checkbox") {
      if (typeof raw === "boolean") return res(true, raw);
      return res(true, ["1", "true", "on", "yes", "✓", "レ"].indexOf(String(raw).trim().toLowerCase()) >= 0);
    }
    var s = normaliseText(raw === null || raw === undefined ? "" : String(raw));
    var digits;
    if (type === "date_wareki") {
      if (!s) return res(false, null, "日付を入力してください");
      var pd = parseDate(s);
      return res(pd[0] !== null, pd[0] ? iso(pd[0][0], pd[0][1], pd[0][2]) : null, pd[1]);
    }
    if (type === "postal_code") {
      digits = digitsOf(s).replace("〒", "");
      if (!/^[0-9]{7}$/.test(digits)) return res(false, null, "郵便番号は7桁の数字です（例: 380-8512）");
      return res(true, digits.slice(0, 3) + "-" + digits.slice(3));
    }
    if (type === "phone") {
      if (!s) return res(true, "");
      s = s.replace(/[‐−ー]/g, "-").replace(/ /g, "");
      digits = s.replace(/-/g, "");
      if (!/^0[0-9]{9,10}$/.test(digits)) return res(false, null, "電話番号は0から始まる10桁または11桁です");
      if (s.indexOf("-") >= 0) {
        if (!PHONE.test(s)) return res(false, null, "電話番号の区切り（-）の位置が正しくありません");
        return res(true, s);
      }
      if (digits.length === 11) return res(true, digits.slice(0, 3) + "-" + digits.slice(3, 7) + "-" + digits.slice(7));
      return res(false, null, "市外局番の区切りを「-」で入力してください（例: 026-226-4911）");
    }
    if (type === "my_number") {
      digits = digitsOf(s);
      if (!/^[0-9]{12}$/.test(digits)) return res(false, null, "個人番号は12桁の数字です");
      if (myNumberCheckDigit(digits.slice(0, 11)) !== parseInt(digits.charAt(11), 10)) return res(false, null, "個人番号のチェックデジットが一致しません");
      return res(true, digits);
    }
    if (type === "digits") {
      digits = digitsOf(s);
      if (!/^[0-9]+$/.test(digits)) return res(false, null, "数字で入力してください");
      return res(true, digits);
    }
    if (type === "kana") {
      if (!s) return res(true, "");
      var kana = s.replace(/[\u3041-\u3096]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) + 0x60); });
      if (!KANA.test(kana)) return res(false, null, "フリガナは全角カタカナで入力してください");
      return res(true, kana);
    }
    return res(true, s);
  }

  window.KyodoValidate = { validate: validate, toWareki: toWareki, parseDate: parseDate, myNumberCheckDigit: myNumberCheckDigit };
})();
