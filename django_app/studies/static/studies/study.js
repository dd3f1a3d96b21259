/* A study's chat page: the project's chat widget, plus recording and per-turn labels.
 *
 * Every message the widget shows live ("chat:message" events) is recorded by the site, in order. Each
 * reply of the assistant waits for its labels; when the study requires them, the next message cannot
 * be sent until they are saved (checked again by the site). The turn limit is kept the same way.
 * No framework, no CDN. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("study-config").textContent);
  var container = document.querySelector("[data-study-chat]");
  var panel = document.querySelector(".study__annotate");
  var turnsEl = document.querySelector(".study__turns");
  var finishButton = document.querySelector(".study__finish");
  var pending = config.pending.slice();   // bot messages not yet labelled: [{id, text}]
  var turns = config.turns;
  var lane = Promise.resolve();           // recordings go one after the other, in the order shown

  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": cookie("csrftoken"), "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) { var err = new Error(data.message || r.status); err.code = data.error; throw err; }
        return data;
      });
    });
  }

  function blocked() {
    if (turns >= config.maxTurns) { return "You have reached the limit of " + config.maxTurns + " messages: please end the chat."; }
    if (config.required && pending.length) { return "Please label the assistant's reply before sending your next message."; }
    return "";
  }

  function showTurns(text) {
    turnsEl.textContent = text || ("Messages sent: " + turns + " (at least " + config.minTurns + ", at most " + config.maxTurns + ")");
    finishButton.disabled = turns < config.minTurns || (config.required && pending.length > 0);
  }

  function showPanel() {
    if (!panel) { return; }
    panel.hidden = pending.length === 0;
    if (!pending.length) { return; }
    panel.querySelector(".study__quoted").textContent = pending[0].text;
    panel.querySelectorAll("input[name=label]").forEach(function (box) { box.checked = false; });
    panel.querySelector(".study__annotate-status").textContent = "";
  }

  function guard(ev) {
    var reason = blocked();
    if (!reason) { return; }
    ev.preventDefault();
    ev.stopImmediatePropagation();
    showTurns(reason);
    var first = panel && !panel.hidden ? panel.querySelector("input[name=label]") : null;
    if (first) { first.focus(); }
  }

  // capture phase on the container: runs before the widget's own handlers
  container.addEventListener("submit", guard, true);
  container.addEventListener("click", function (ev) {
    if (ev.target.closest && ev.target.closest(".msg__buttons button")) { guard(ev); }
  }, true);

  container.addEventListener("chat:message", function (ev) {
    var msg = ev.detail;
    if (msg.from !== "user" && msg.from !== "bot") { return; }
    if (msg.from === "user") { turns += 1; showTurns(); }
    lane = lane.then(function () {
      return post(config.messageUrl, { sender: msg.from, text: msg.text, ts: msg.ts }).then(function (saved) {
        turns = saved.turns;
        if (msg.from === "bot" && config.labels.length) {
          pending.push({ id: saved.id, text: msg.text });
          if (pending.length === 1) { showPanel(); }
        }
        showTurns();
      }).catch(function (err) {
        if (err.code === "timed_out") { window.location.reload(); return; }  // the page says what happened
        showTurns("Not recorded: " + err.message);
      });
    });
  });

  if (panel) {
    panel.querySelector(".study__save").addEventListener("click", function () {
      var labels = Array.prototype.filter.call(panel.querySelectorAll("input[name=label]"), function (b) { return b.checked; })
        .map(function (b) { return b.value; });
      var status = panel.querySelector(".study__annotate-status");
      if (config.required && !labels.length) { status.textContent = "Please tick at least one label."; return; }
      post(config.annotateUrl, { message: pending[0].id, labels: labels }).then(function () {
        pending.shift();
        showPanel();
        showTurns();
        if (!pending.length) { status.textContent = "Saved."; panel.hidden = true; widget.focus(); }
      }).catch(function (err) { status.textContent = err.message; });
    });
  }

  var widget = window.ChatWidget.mount(container, { configUrl: container.getAttribute("data-config-url"), autofocus: true });
  showPanel();
  showTurns();
})();
