// Sortable tables (click a header), filters by status, the trajectory picker.
(function () {
  function cellValue(row, i) {
    var c = row.cells[i];
    if (!c) return "";
    var v = c.getAttribute("data-sort");
    if (v === null) v = c.textContent.trim();
    var n = parseFloat(v);
    return isNaN(n) || !/^[-+]?[0-9.]+(e[-+]?[0-9]+)?$/i.test(v) ? v.toLowerCase() : n;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, i) {
      th.addEventListener("click", function () {
        var asc = !th.classList.contains("asc");
        Array.prototype.forEach.call(heads, function (h) { h.classList.remove("asc", "desc"); });
        th.classList.add(asc ? "asc" : "desc");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, i), y = cellValue(b, i);
          if (x < y) return asc ? -1 : 1;
          if (x > y) return asc ? 1 : -1;
          return 0;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  document.querySelectorAll("select.filter").forEach(function (sel) {
    sel.addEventListener("change", function () {
      var table = document.getElementById(sel.getAttribute("data-table"));
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.hidden = sel.value !== "" && r.getAttribute("data-status") !== sel.value;
      });
    });
  });
  var pick = document.getElementById("traj-pick");
  function show(id) {
    document.querySelectorAll(".traj").forEach(function (t) { t.classList.toggle("shown", t.id === id); });
    if (pick && pick.value !== id) pick.value = id;
  }
  if (pick) {
    pick.addEventListener("change", function () { show(pick.value); });
    document.querySelectorAll("a.traj-link").forEach(function (a) {
      a.addEventListener("click", function () { show(a.getAttribute("href").slice(1)); });
    });
    // #ID picks a trajectory; ?traj=ID shows it alone (a page to share).
    var only = new URLSearchParams(location.search).get("traj");
    var h = only || location.hash.slice(1), el = document.getElementById(h);
    if (el && el.classList.contains("traj")) {
      show(h);
      if (only) document.body.classList.add("only-traj");
      else el.scrollIntoView(); // it was hidden when the browser scrolled to it
    } else {
      show(pick.value);
    }
  }
})();
