/* Chat widget. Gets a short-lived JWT for this visitor's conversation from
 * Django (same origin, session cookie + CSRF), then talks to Rasa's socket.io
 * channel directly. Refreshes the token before it expires, reconnects with
 * backoff, keeps the history across reloads. No framework, no CDN. */
(function () {
  "use strict";

  var root = document.getElementById("chat");
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var sendButton = document.getElementById("chat-send");
  var statusEl = document.getElementById("chat-status");
  var banner = document.getElementById("chat-banner");
  var typingEl = document.getElementById("chat-typing");
  var restartButton = document.getElementById("chat-restart");

  var config = {
    socketUrl: root.dataset.socketUrl,
    tokenUrl: root.dataset.tokenUrl,
    restartUrl: root.dataset.restartUrl,
    storageKey: "chat-history-v1",
    maxHistory: 200
  };
  var grant = null;          // {token, session_id, expires_at}
  var socket = null;
  var refreshTimer = null;
  var typingTimer = null;
  var retryDelay = 1000;
  var confirmTimer = null;
  var history = [];

  /* ---------- helpers ---------- */
  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  function post(url) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": cookie("csrftoken"), "Accept": "application/json" }
    }).then(function (r) {
      if (!r.ok) { throw new Error(url + " answered " + r.status); }
      return r.json();
    });
  }

  function fetchToken() {
    return post(config.tokenUrl).then(function (t) { grant = t; scheduleRefresh(); return t; });
  }

  function timeLabel(ts) {
    var d = new Date(ts);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function appendText(el, text) {
    // Plain text with http(s) links made clickable; never HTML from the server.
    var parts = String(text).split(/(https?:\/\/[^\s<>"]+)/g);
    parts.forEach(function (part, i) {
      if (i % 2 === 1) {
        var a = document.createElement("a");
        a.href = part; a.textContent = part; a.target = "_blank"; a.rel = "noopener noreferrer";
        el.appendChild(a);
      } else if (part) {
        el.appendChild(document.createTextNode(part));
      }
    });
  }

  /* ---------- rendering ---------- */
  function render(msg, live) {
    var item = document.createElement("li");
    item.className = "msg msg--" + msg.from;
    var bubble = document.createElement("div");
    bubble.className = "msg__bubble";
    var who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = msg.from === "user" ? "You said: " : (msg.from === "bot" ? "Assistant: " : "Notice: ");
    bubble.appendChild(who);
    if (msg.text) { appendText(bubble, msg.text); }
    if (msg.image) {
      var img = document.createElement("img");
      img.className = "msg__image"; img.src = msg.image; img.alt = msg.alt || "Image from the assistant";
      bubble.appendChild(img);
    }
    item.appendChild(bubble);
    if (msg.buttons && msg.buttons.length) {
      var row = document.createElement("div");
      row.className = "msg__buttons";
      row.setAttribute("role", "group");
      row.setAttribute("aria-label", "Suggested replies");
      msg.buttons.forEach(function (b) {
        var el = document.createElement("button");
        el.type = "button";
        el.textContent = b.title;
        el.disabled = !!msg.answered || !live;
        el.addEventListener("click", function () {
          msg.answered = true;
          row.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
          persist();
          send(b.payload, b.title);
        });
        row.appendChild(el);
      });
      item.appendChild(row);
    }
    var time = document.createElement("time");
    time.className = "msg__time";
    time.dateTime = new Date(msg.ts).toISOString();
    time.textContent = timeLabel(msg.ts);
    item.appendChild(time);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function add(msg) {
    msg.ts = msg.ts || Date.now();
    history.push(msg);
    if (history.length > config.maxHistory) { history = history.slice(-config.maxHistory); }
    persist();
    return render(msg, true);
  }

  function persist() {
    try {
      localStorage.setItem(config.storageKey, JSON.stringify({ session_id: grant && grant.session_id, messages: history }));
    } catch (e) { /* storage full or disabled: history is a convenience */ }
  }

  function restoreHistory(sessionId) {
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem(config.storageKey) || "null"); } catch (e) { saved = null; }
    history = (saved && saved.session_id === sessionId && Array.isArray(saved.messages)) ? saved.messages : [];
    log.textContent = "";
    history.forEach(function (m, i) { render(m, i === history.length - 1); });
  }

  function fromBot(data) {
    var msg = { from: "bot", text: data.text || "" };
    var buttons = data.quick_replies || data.buttons || [];
    if (buttons.length) {
      msg.buttons = buttons.map(function (b) { return { title: String(b.title), payload: String(b.payload) }; });
    }
    if (data.attachment && data.attachment.type === "image" && data.attachment.payload) {
      msg.image = data.attachment.payload.src;
    }
    if (data.image) { msg.image = data.image; }
    return msg;
  }

  /* ---------- status ---------- */
  function setOnline(online) {
    statusEl.textContent = online ? "Online" : "Offline";
    input.disabled = !online;
    sendButton.disabled = !online;
    if (online) { showBanner(null); }
  }

  function showBanner(text) {
    banner.hidden = !text;
    banner.textContent = text || "";
  }

  function typing(on) {
    clearTimeout(typingTimer);
    typingEl.hidden = !on;
    if (on) { typingTimer = setTimeout(function () { typingEl.hidden = true; }, 30000); }
  }

  /* ---------- conversation ---------- */
  function send(text, shownAs) {
    if (!socket || !socket.connected || !grant) { return; }
    add({ from: "user", text: shownAs || text });
    typing(true);
    socket.emit("user_uttered", { message: text, session_id: grant.session_id });
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    if (!grant) { return; }
    var ms = Math.max(5000, grant.expires_at * 1000 - Date.now() - 60000);
    refreshTimer = setTimeout(function () {
      fetchToken().then(function (t) {
        if (socket && socket.connected) { socket.emit("refresh_token", { token: t.token }); }
      }).catch(function () { refreshTimer = setTimeout(scheduleRefresh, 10000); });
    }, ms);
  }

  function tokenForConnect(cb) {
    // Each (re)connection presents a token; fetch a fresh one if ours is about to expire.
    if (grant && grant.expires_at * 1000 - Date.now() > 60000) { cb({ token: grant.token }); return; }
    fetchToken().then(function (t) { cb({ token: t.token }); }).catch(function () { cb({ token: grant ? grant.token : "" }); });
  }

  function retryLater() {
    setTimeout(function () { if (socket && !socket.connected) { socket.connect(); } }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  function openSocket() {
    socket = io(config.socketUrl, {
      transports: ["websocket"],
      auth: tokenForConnect,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000
    });
    socket.on("connect", function () {
      retryDelay = 1000;
      socket.emit("session_request", { session_id: grant.session_id });
      // A connection whose session is never confirmed is no use: start over.
      clearTimeout(confirmTimer);
      confirmTimer = setTimeout(function () { socket.disconnect(); retryLater(); }, 15000);
    });
    socket.on("session_confirm", function () { clearTimeout(confirmTimer); setOnline(true); input.focus(); });
    socket.on("bot_uttered", function (data) { add(fromBot(data)); });
    socket.on("bot_done", function () { typing(false); });
    socket.on("chat_error", function (err) {
      if (err.code === "token_expired") { return; }  // the server disconnects; we reconnect with a fresh token
      typing(false);
      var text = err.code === "rate_limited" ? "You are sending messages too fast. Please wait a moment."
        : err.code === "too_long" ? "That message is too long. Please shorten it."
        : "That message could not be sent.";
      add({ from: "error", text: text });
    });
    socket.on("disconnect", function (reason) {
      clearTimeout(confirmTimer);
      setOnline(false);
      typing(false);
      showBanner("Connection lost. Reconnecting…");
      if (reason === "io server disconnect") { retryLater(); }  // socket.io does not retry these by itself
    });
    socket.on("connect_error", function () {
      setOnline(false);
      showBanner(navigator.onLine === false ? "You are offline. Waiting for the network…" : "Can't reach the assistant. Reconnecting…");
      if (!socket.active) { retryLater(); }  // refused by the server: retry with a fresh token
    });
  }

  function restart() {
    restartButton.disabled = true;
    post(config.restartUrl).then(function (t) {
      grant = t;
      scheduleRefresh();
      history = [];
      persist();
      log.textContent = "";
      if (socket) { socket.disconnect(); socket.connect(); }
    }).catch(function () {
      add({ from: "error", text: "Could not start a new conversation. Please try again." });
    }).then(function () { restartButton.disabled = false; });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });
  restartButton.addEventListener("click", restart);
  window.addEventListener("offline", function () { showBanner("You are offline. Waiting for the network…"); });

  fetchToken().then(function (t) {
    restoreHistory(t.session_id);
    openSocket();
  }).catch(function (err) {
    setOnline(false);
    showBanner("The chat is unavailable right now. Please reload the page in a moment.");
    if (window.console) { console.error(err); }
  });
})();
