/* A study's chat page: the project's chat widget, plus recording and per-turn labels.
 *
 * Every message the widget shows live ("chat:message" events) is recorded by the site, in order. Each
 * reply of the assistant waits for its labels; when the study requires them, the next message cannot
 * be sent until they are saved (checked again by the site). The turn limit is kept the same way.
 * No framework, no CDN. */
(function () {
  "use strict";

  /* The message transforms (names registered in studies/transforms.py): text -> text, or msg -> [msg, ...]. */
  function hash(text) {                       // FNV-1a, 32 bits: the same text always gets the same typos
    var h = 2166136261;
    for (var i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
    return h;
  }
  function random(seed) {                     // mulberry32
    return function () {
      seed = (seed + 0x6D2B79F5) >>> 0;
      var t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  var TRANSFORMS = {
    user: {
      lowercase: function (text) { return text.toLowerCase(); },
      typos: function (text) {
        var next = random(hash(text));
        return text.replace(/[A-Za-z]{4,}/g, function (word) {
          if (next() >= 1 / 6) { return word; }
          var i = 1 + Math.floor(next() * (word.length - 3));   // two inner letters, never the first or last
          return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
        });
      }
    },
    bot: {
      lowercase: function (msg) { return [Object.assign({}, msg, { text: msg.text.toLowerCase() })]; },
      sentences: function (msg) {
        var parts = msg.text.split(/(?<=[.!?])\s+(?=\S)/).filter(function (p) { return p.trim(); });
        if (parts.length < 2) { return [msg]; }
        return parts.map(function (part, i) {  // buttons and images stay with the last sentence
          var last = i === parts.length - 1;
          return Object.assign({}, last ? msg : { from: msg.from }, { text: part });
        });
      }
    }
  };

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
      // text: after the transforms (what the bot got, what was shown); before: what was typed, or the reply
      var body = msg.from === "user"
        ? { sender: "user", text: msg.sent || msg.text, before: msg.sent ? msg.text : "", ts: msg.ts }
        : { sender: "bot", text: msg.text, before: msg.original || "", ts: msg.ts };
      return post(config.messageUrl, body).then(function (saved) {
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

  var chains = config.transforms || {};
  var options = { configUrl: container.getAttribute("data-config-url"), autofocus: true };
  if ((chains.user || []).length) {
    options.transformOutgoing = function (text) {
      return chains.user.reduce(function (t, name) { return TRANSFORMS.user[name](t); }, text);
    };
  }
  if ((chains.bot || []).length) {
    options.transformIncoming = function (msg) {
      var out = chains.bot.reduce(function (msgs, name) {
        return [].concat.apply([], msgs.map(TRANSFORMS.bot[name]));
      }, [msg]);
      out.forEach(function (m) { if (m.text !== msg.text) { m.original = msg.text; } });
      return out;
    };
  }
  var widget = window.ChatWidget.mount(container, options);
  showPanel();
  showTurns();
})();
