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
  // "Spread": a yearly figure divided evenly over the twelve months; the cents that do
  // not divide go to December so the months add up to the figure exactly.
  function spread(row, total, money) {
    var inputs = row.querySelectorAll("input.cell-input");
    var unit = money ? 100 : 1;
    var whole = Math.round(total * unit);
    var each = Math.floor(whole / inputs.length);
    inputs.forEach(function (input, i) {
      var part = i === inputs.length - 1 ? whole - each * (inputs.length - 1) : each;
      input.value = money ? (part / unit).toFixed(2) : String(part);
    });
    update(row);
  }
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-spread]") : null;
    if (!button) { return; }
    var row = button.closest("[data-target-row]");
    var answer = window.prompt(button.dataset.prompt || "");
    if (row === null || answer === null) { return; }
    var total = parseFloat(String(answer).replace(/,/g, ""));
    if (!isFinite(total) || total < 0) { return; }
    spread(row, total, row.closest("[data-money]").dataset.money === "1");
  });
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.classList.contains("cell-input")) {
      var row = target.closest("[data-target-row]");
      if (row) { update(row); }
    }
  });
})();
