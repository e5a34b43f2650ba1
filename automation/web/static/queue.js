// Keyboard: the first document's link has focus, so Enter opens it; j/k move between rows.
(function () {
  "use strict";
  var links = Array.prototype.slice.call(document.querySelectorAll("#queue a.button"));
  if (!links.length) return;
  links[0].focus();
  document.addEventListener("keydown", function (ev) {
    var i = links.indexOf(document.activeElement);
    if (ev.key === "j" && i < links.length - 1) { links[i + 1].focus(); ev.preventDefault(); }
    if (ev.key === "k" && i > 0) { links[i - 1].focus(); ev.preventDefault(); }
  });
})();
