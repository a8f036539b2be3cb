// Payment plan editor: add / remove installment rows and show the running total against
// the contract amount. The server checks the sum again; this only helps while typing.
(function () {
  "use strict";
  function toCents(text) {
    var clean = String(text || "").replace(/[,，¥\s]/g, "");
    if (!/^\d+(\.\d+)?$/.test(clean)) return null;
    var parts = clean.split(".");
    var frac = ((parts[1] || "") + "000").slice(0, 3);
    var cents = parseInt(parts[0], 10) * 100 + parseInt(frac.slice(0, 2), 10);
    if (parseInt(frac[2], 10) >= 5) cents += 1; // half up, like the server
    return cents;
  }
  function money(cents) {
    var sign = cents < 0 ? "-" : "";
    cents = Math.abs(cents);
    var whole = String(Math.floor(cents / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + whole + "." + String(cents % 100).padStart(2, "0");
  }
  function setup(form) {
    var body = form.querySelector("tbody");
    var template = form.querySelector("template[data-row-template]");
    var out = form.querySelector("[data-plan-total]");
    var labels = form.querySelector("[data-label-total]").dataset;
    var target = toCents(form.dataset.contractAmount) || 0;
    var currency = form.dataset.currency;
    function update() {
      var total = 0;
      form.querySelectorAll("input[name=amount]").forEach(function (input) {
        var c = toCents(input.value);
        if (c !== null) total += c;
      });
      var diff = total - target;
      var state = diff === 0 ? labels.labelOk : money(Math.abs(diff)) + " " + (diff > 0 ? labels.labelMore : labels.labelLess);
      out.textContent = labels.labelTotal + " " + currency + " " + money(total) + " " + labels.labelOf + " " + money(target) + " · " + state;
      out.classList.toggle("plan-ok", diff === 0);
      out.classList.toggle("plan-off", diff !== 0);
    }
    form.querySelector("[data-add-row]").addEventListener("click", function () {
      body.appendChild(template.content.cloneNode(true));
      update();
    });
    body.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-row]");
      if (!button) return;
      button.closest("tr").remove();
      update();
    });
    form.addEventListener("input", update);
    update();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-plan-editor]").forEach(setup);
  });
})();
