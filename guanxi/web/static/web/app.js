// Guanxi: the little behaviour the pages need (menu drawer, copy button, confirmations).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-toggle-nav]");
    if (toggle) {
      var open = document.body.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var source = document.getElementById(copy.getAttribute("data-copy"));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          copy.textContent = copy.getAttribute("data-copied") || "✓";
        });
      }
      return;
    }
    if (document.body.classList.contains("nav-open") && !event.target.closest("#sidebar")) {
      document.body.classList.remove("nav-open");
    }
  });
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();

// Account type-ahead (customers/_account_picker.html): pick a suggestion, or clear.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var pick = event.target.closest("[data-pick-account]");
    if (!pick) { return; }
    var picker = pick.closest("[data-account-picker]");
    picker.querySelector("[data-picker-value]").value = pick.getAttribute("data-pick-account");
    picker.querySelector("[data-picker-text]").value = pick.getAttribute("data-name");
    picker.querySelector(".account-options").innerHTML = "";
  });
  document.addEventListener("input", function (event) {
    var text = event.target.closest("[data-picker-text]");
    if (text) {
      // Typing again un-chooses the account until a suggestion is picked.
      text.closest("[data-account-picker]").querySelector("[data-picker-value]").value = "";
    }
  });
})();
