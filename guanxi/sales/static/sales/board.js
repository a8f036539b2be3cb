// Deal board: drag cards between stages with a mouse, a pen or a finger (Pointer Events).
// Mouse: drag the card. Touch: drag the ⠿ handle, or hold the card for a moment, so
// that swiping still scrolls the board. Dropping on a lost stage asks for the reason.
// Moves go through the public API (POST /api/v1/deals/{id}/move); the board is then
// re-rendered by the server, so counts and totals always come from the database.
(function () {
  "use strict";
  var HOLD_MS = 350;
  var MOVE_PX = 6;
  var drag = null;

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function boardEl() {
    return document.querySelector("[data-board]");
  }

  function showError(text) {
    var board = boardEl();
    if (!board) return;
    var box = document.querySelector("[data-board-error]");
    if (!box) {
      box = document.createElement("p");
      box.className = "msg msg-error board-error";
      box.setAttribute("role", "alert");
      box.setAttribute("data-board-error", "");
      // Outside the container the board is re-rendered into, so the message stays.
      var container = document.getElementById("board-container");
      container.parentNode.insertBefore(box, container);
    }
    box.textContent = text;
    box.hidden = !text;
  }

  function setBusy(busy) {
    var container = document.getElementById("board-container");
    if (!container) return;
    if (busy) container.setAttribute("data-busy", "");
    else container.removeAttribute("data-busy");
  }

  function refresh() {
    var board = boardEl();
    if (!board) { setBusy(false); return Promise.resolve(); }
    return fetch(board.getAttribute("data-refresh-url"), {
      credentials: "same-origin",
      headers: { "HX-Request": "true" },
    })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var container = document.getElementById("board-container");
        container.innerHTML = html;
        if (window.htmx) window.htmx.process(container);
        setBusy(false);
      }, function () { setBusy(false); });
  }

  function move(dealId, stageId, beforeId, loss) {
    var board = boardEl();
    var url = board.getAttribute("data-move-url").replace("/0/", "/" + dealId + "/");
    var body = { stage: parseInt(stageId, 10) };
    if (beforeId) body.before_id = parseInt(beforeId, 10);
    if (loss) {
      body.loss_reason = loss.reason ? parseInt(loss.reason, 10) : null;
      body.loss_note = loss.note;
    }
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
    });
  }

  function columnAt(x, y) {
    var el = document.elementFromPoint(x, y);
    return el ? el.closest("[data-stage]") : null;
  }

  function beforeCardAt(column, y, dragged) {
    var cards = column.querySelectorAll(".kanban-card");
    for (var i = 0; i < cards.length; i++) {
      if (cards[i] === dragged) continue;
      var box = cards[i].getBoundingClientRect();
      if (y < box.top + box.height / 2) return cards[i];
    }
    return null;
  }

  function start(state, event) {
    var card = state.card;
    var box = card.getBoundingClientRect();
    var ghost = card.cloneNode(true);
    ghost.classList.add("kanban-ghost");
    ghost.style.width = box.width + "px";
    ghost.style.left = box.left + "px";
    ghost.style.top = box.top + "px";
    document.body.appendChild(ghost);
    card.classList.add("kanban-dragging");
    document.body.classList.add("kanban-drag-active");
    state.ghost = ghost;
    state.dx = event.clientX - box.left;
    state.dy = event.clientY - box.top;
    state.active = true;
    try { card.setPointerCapture(event.pointerId); } catch (e) { /* synthetic pointers */ }
    follow(state, event);
  }

  function follow(state, event) {
    state.ghost.style.left = event.clientX - state.dx + "px";
    state.ghost.style.top = event.clientY - state.dy + "px";
    var previous = document.querySelector(".kanban-column.drop-target");
    var column = columnAt(event.clientX, event.clientY);
    if (previous && previous !== column) previous.classList.remove("drop-target");
    if (column) column.classList.add("drop-target");
    state.lastX = event.clientX;
    if (!state.scrolling) {
      state.scrolling = true;
      window.requestAnimationFrame(function () { edgeScroll(state); });
    }
  }

  // While the pointer rests near the board's left or right edge, keep scrolling it
  // sideways (phones show about one column at a time).
  function edgeScroll(state) {
    var board = boardEl();
    if (!state.active || !board || drag !== state) {
      state.scrolling = false;
      return;
    }
    var rect = board.getBoundingClientRect();
    if (state.lastX < rect.left + 40) board.scrollLeft -= 12;
    else if (state.lastX > rect.right - 40) board.scrollLeft += 12;
    window.requestAnimationFrame(function () { edgeScroll(state); });
  }

  function cleanup(state) {
    if (state.timer) window.clearTimeout(state.timer);
    if (state.ghost) state.ghost.remove();
    state.card.classList.remove("kanban-dragging");
    document.body.classList.remove("kanban-drag-active");
    var target = document.querySelector(".kanban-column.drop-target");
    if (target) target.classList.remove("drop-target");
  }

  function askLossReason(name) {
    var dialog = document.getElementById("lose-dialog");
    var form = document.getElementById("lose-form");
    return new Promise(function (resolve) {
      dialog.querySelector(".lose-deal-name").textContent = name || "";
      form.reset();
      var error = dialog.querySelector(".lose-error");
      error.hidden = true;
      function onSubmit(event) {
        event.preventDefault();
        var reason = form.elements.loss_reason.value;
        var note = form.elements.loss_note.value.trim();
        if (!reason || !note) {
          error.textContent = form.elements.loss_reason.labels[0].textContent.replace("*", "").trim() +
            " / " + form.elements.loss_note.labels[0].textContent.replace("*", "").trim();
          error.hidden = false;
          return;
        }
        done({ reason: reason, note: note });
      }
      function onCancel() { done(null); }
      function done(value) {
        form.removeEventListener("submit", onSubmit);
        dialog.querySelector("[data-lose-cancel]").removeEventListener("click", onCancel);
        dialog.removeEventListener("cancel", onCancel);
        dialog.close();
        resolve(value);
      }
      form.addEventListener("submit", onSubmit);
      dialog.querySelector("[data-lose-cancel]").addEventListener("click", onCancel);
      dialog.addEventListener("cancel", onCancel);
      dialog.showModal();
    });
  }

  function drop(state, event) {
    var card = state.card;
    var column = columnAt(event.clientX, event.clientY);
    cleanup(state);
    if (!column) return;
    var fromColumn = card.closest("[data-stage]");
    var before = beforeCardAt(column, event.clientY, card);
    if (column === fromColumn && (before === card.nextElementSibling || before === card)) return;
    var list = column.querySelector("[data-cards]");
    var more = list.querySelector(".kanban-more");
    list.insertBefore(card, before || more);
    setBusy(true);
    var dealId = card.getAttribute("data-deal");
    var beforeId = before ? before.getAttribute("data-deal") : null;
    var lossAsked = Promise.resolve(null);
    if (column !== fromColumn && column.getAttribute("data-kind") === "lost") {
      lossAsked = askLossReason(card.getAttribute("data-name"));
    }
    lossAsked.then(function (loss) {
      if (column !== fromColumn && column.getAttribute("data-kind") === "lost" && !loss) {
        return refresh();
      }
      return move(dealId, column.getAttribute("data-stage"), beforeId, loss).then(function (res) {
        showError(res.ok ? "" : (res.data && res.data.detail) || boardEl().getAttribute("data-msg-failed"));
        return refresh();
      });
    }).catch(function () {
      showError(boardEl().getAttribute("data-msg-failed"));
      refresh();
    });
  }

  document.addEventListener("pointerdown", function (event) {
    if (event.button !== 0 && event.pointerType === "mouse") return;
    var card = event.target.closest(".kanban-card");
    if (!card || !card.closest("[data-board]")) return;
    if (document.querySelector("#board-container[data-busy]")) return;
    var onHandle = !!event.target.closest(".kanban-handle");
    drag = { card: card, x: event.clientX, y: event.clientY, active: false, timer: null,
             touch: event.pointerType !== "mouse" && !onHandle, pointerId: event.pointerId };
    if (onHandle) {
      event.preventDefault();
      start(drag, event);
    } else if (drag.touch) {
      var state = drag;
      state.timer = window.setTimeout(function () {
        if (drag === state && !state.active) start(state, { clientX: state.x, clientY: state.y,
                                                           pointerId: state.pointerId });
      }, HOLD_MS);
    }
  });

  document.addEventListener("pointermove", function (event) {
    if (!drag || event.pointerId !== drag.pointerId) return;
    if (!drag.active) {
      var far = Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y) > MOVE_PX;
      if (!far) return;
      if (drag.touch) {  // the finger moved before the hold: it is a scroll, not a drag
        window.clearTimeout(drag.timer);
        drag = null;
        return;
      }
      start(drag, event);
    }
    event.preventDefault();
    follow(drag, event);
  });

  document.addEventListener("pointerup", function (event) {
    if (!drag || event.pointerId !== drag.pointerId) return;
    var state = drag;
    drag = null;
    if (state.active) {
      event.preventDefault();
      state.suppressClick = true;
      suppressNextClick();
      drop(state, event);
    } else if (state.timer) {
      window.clearTimeout(state.timer);
    }
  });

  document.addEventListener("pointercancel", function (event) {
    if (!drag || event.pointerId !== drag.pointerId) return;
    cleanup(drag);
    drag = null;
  });

  // While dragging with a finger the page must not scroll.
  document.addEventListener("touchmove", function (event) {
    if (drag && drag.active) event.preventDefault();
  }, { passive: false });

  // The click that ends a drag must not open the card's link; other clicks (the lose
  // dialog's buttons) pass.
  function suppressNextClick() {
    function stop(event) {
      if (!event.target.closest || !event.target.closest(".kanban-card")) return;
      event.preventDefault();
      event.stopPropagation();
      document.removeEventListener("click", stop, true);
    }
    document.addEventListener("click", stop, true);
    window.setTimeout(function () { document.removeEventListener("click", stop, true); }, 400);
  }
})();
