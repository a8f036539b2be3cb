// List pages: row selection for bulk actions, the column chooser's ordering, and the
// bulk form's field / value pairing. Everything still works as plain forms without it.
(function () {
  "use strict";

  function rowChecks() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-row-check]"));
  }

  function updateCount() {
    var counter = document.querySelector("[data-bulk-count]");
    if (!counter) { return; }
    var all = document.querySelector("[data-bulk-all]");
    var n = rowChecks().filter(function (c) { return c.checked; }).length;
    var text = counter.getAttribute("data-template").replace("__N__", String(n));
    counter.textContent = all && all.checked ? all.parentNode.textContent.trim() : text;
    var none = n === 0 && !(all && all.checked);
    document.querySelectorAll("[data-bulk-action]").forEach(function (b) { b.disabled = none; });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-page]")) {
      rowChecks().forEach(function (c) { c.checked = target.checked; });
      updateCount();
    } else if (target.matches("[data-row-check]")) {
      var page = document.querySelector("[data-select-page]");
      if (page) { page.checked = rowChecks().every(function (c) { return c.checked; }); }
      updateCount();
    } else if (target.matches("[data-bulk-all]")) {
      if (target.checked) {
        rowChecks().forEach(function (c) { c.checked = true; });
        var pageBox = document.querySelector("[data-select-page]");
        if (pageBox) { pageBox.checked = true; }
      }
      updateCount();
    } else if (target.matches("[data-bulk-field]")) {
      showValue(target.value);
    }
  });

  function showValue(name) {
    document.querySelectorAll("[data-bulk-value]").forEach(function (box) {
      var on = box.getAttribute("data-bulk-value") === name;
      box.hidden = !on;
      box.querySelectorAll("input, select").forEach(function (input) { input.disabled = !on; });
    });
  }

  document.addEventListener("click", function (event) {
    var move = event.target.closest("[data-move]");
    if (!move) { return; }
    var item = move.closest("li");
    if (move.getAttribute("data-move") === "up" && item.previousElementSibling) {
      item.parentNode.insertBefore(item, item.previousElementSibling);
    } else if (move.getAttribute("data-move") === "down" && item.nextElementSibling) {
      item.parentNode.insertBefore(item.nextElementSibling, item);
    }
    move.focus();
  });

  document.addEventListener("DOMContentLoaded", function () {
    updateCount();
    var field = document.querySelector("[data-bulk-field]");
    if (field) { showValue(field.value); }
  });
})();
