// Targets grid: keep the quarter and year sums of a row in step while typing.
(function () {
  "use strict";
  function value(input) {
    var n = parseFloat(String(input.value).replace(/,/g, ""));
    return isFinite(n) ? n : 0;
  }
  // Same shape as the server's sums: 1,234.50 for money, 12 for counts.
  function format(n, money) {
    var digits = money ? 2 : 0;
    return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  function update(row) {
    var quarters = [0, 0, 0, 0], total = 0;
    var money = row.closest("[data-money]").dataset.money === "1";
    row.querySelectorAll("input.cell-input").forEach(function (input) {
      var month = parseInt(input.dataset.month, 10), n = value(input);
      quarters[Math.floor((month - 1) / 3)] += n;
      total += n;
    });
    row.querySelectorAll("[data-quarter]").forEach(function (cell) {
      cell.textContent = format(quarters[parseInt(cell.dataset.quarter, 10) - 1], money);
    });
    var cell = row.querySelector("[data-year-total]");
    if (cell) { cell.textContent = format(total, money); }
  }
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.classList.contains("cell-input")) {
      var row = target.closest("[data-target-row]");
      if (row) { update(row); }
    }
  });
})();
