// Keyboard for the review page (service/portal/review.py): A approve, C comment, J next, K previous.
document.addEventListener("keydown", function (e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  var t = e.target.tagName;
  if (t === "TEXTAREA" || t === "INPUT" || t === "SELECT") {
    if (e.key === "Escape") e.target.blur();
    return;
  }
  var go = function (id) { var a = document.getElementById(id); if (a) { e.preventDefault(); a.click(); } };
  if (e.key === "a" || e.key === "A") go("approve");
  else if (e.key === "j" || e.key === "J") go("next");
  else if (e.key === "k" || e.key === "K") go("prev");
  else if (e.key === "c" || e.key === "C") { var c = document.getElementById("comment"); if (c) { e.preventDefault(); c.focus(); } }
});
