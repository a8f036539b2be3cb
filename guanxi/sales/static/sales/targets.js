// Targets grid: keep the quarter and year sums of a row in step while typing.
(function () {
  "use strict";
  function value(input) {
    var n = parseFloat(String(input.value).replace(/,/g, ""));
    return isFinite(n) ? n : 0;
  }
  function format(n) {
    return (Math.round(n * 100) / 100).toLocaleString(undefined, { maximumFractionDigits: 2 });
  }
  function update(row) {
    var quarters = [0, 0, 0, 0], total = 0;
    row.querySelectorAll("input.cell-input").forEach(function (input) {
      var month = parseInt(input.dataset.month, 10), n = value(input);
      quarters[Math.floor((month - 1) / 3)] += n;
      total += n;
    });
    row.querySelectorAll("[data-quarter]").forEach(function (cell) {
      cell.textContent = format(quarters[parseInt(cell.dataset.quarter, 10) - 1]);
    });
    var cell = row.querySelector("[data-year-total]");
    if (cell) { cell.textContent = format(total); }
  }
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.classList.contains("cell-input")) {
      var row = target.closest("[data-target-row]");
      if (row) { update(row); }
    }
  });
})();
