/* FAB's list tables as cards on a phone (css/phone.css): each cell gets its column's label as
   data-label, taken from the table's header. Nothing changes on a desktop. */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("table.table-hover"), function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    Array.prototype.forEach.call(table.querySelectorAll("tbody > tr"), function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (heads[i] && !cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", heads[i]);
        }
      });
    });
  });
})();
