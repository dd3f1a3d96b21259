/* Chat widget: one component, mounted once per bot (several may share a page).
 *
 *   ChatWidget.mount(element, {configUrl: ".../chat/<bot>/widget.json", autofocus: true, onClose: fn})
 *
 * or mark elements with data-chat-widget data-config-url="..." and they are mounted when the page
 * loads. Each instance builds its own DOM inside its element (no fixed ids, so any number can share
 * a page), gets its bot's settings from Django (widget.json: socket URL, token URL, CSRF token),
 * then a short-lived JWT for this visitor's conversation with that bot, and talks to the bot's
 * socket.io server directly: a Rasa server's channel or the project's scripted-bot server, which
 * speak the same protocol. Refreshes the token before it expires, reconnects with backoff, keeps
 * the history across reloads per bot and conversation. Each message shown live is also announced
 * as a "chat:message" DOM event on the container (detail: {from, text, ts, sent, original}); the options
 * transformOutgoing / transformIncoming change what the bot gets and what is shown (the studies' message
 * transforms). No framework, no CDN. */
(function () {
  "use strict";

  var STORAGE_PREFIX = "chat:v2:";   // + bot + ":" + conversation
  var MAX_HISTORY = 200;

  /* ---------- helpers shared by all instances ---------- */
  function el(tag, className, attrs) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + " answered " + r.status); }
      return r.json();
    });
  }

  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  // POSTs of all widgets on the page go one after the other: the first one of a new visitor
  // creates the Django session, and the others must carry its cookie rather than each start one.
  var lane = Promise.resolve();

  function postJSON(url, csrfToken) {
    var request = function () {
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        // the cookie is the CSRF secret Django checks against (the last one set wins when several
        // widget.json answers raced); the token from widget.json when the cookie is not readable
        headers: { "X-CSRFToken": cookie("csrftoken") || csrfToken, "Accept": "application/json" }
      }).then(function (r) {
        if (!r.ok) { throw new Error(url + " answered " + r.status); }
        return r.json();
      });
    };
    var result = lane.then(request, request);
    lane = result.catch(function () { return null; });
    return result;
  }

  function timeLabel(ts) {
    return new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function appendText(node, text) {
    // Plain text with http(s) links made clickable; never HTML from the server.
    String(text).split(/(https?:\/\/[^\s<>"]+)/g).forEach(function (part, i) {
      if (i % 2 === 1) {
        var a = el("a", "", { href: part, target: "_blank", rel: "noopener noreferrer" });
        a.textContent = part;
        node.appendChild(a);
      } else if (part) {
        node.appendChild(document.createTextNode(part));
      }
    });
  }

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }  // disabled: history is a convenience
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

  /* ---------- one widget ---------- */
  function mount(container, options) {
    options = options || {};
    var configUrl = options.configUrl || container.getAttribute("data-config-url");
    var autofocus = options.autofocus !== undefined ? options.autofocus : container.hasAttribute("data-autofocus");

    /* the DOM, built here: classes only, no ids */
    var root = el("section", "chat", { "aria-label": "Chat" });
    var header = el("header", "chat__header");
    var title = el("h2", "chat__title");
    title.textContent = options.label || container.getAttribute("data-label") || "Chat";
    var statusEl = el("span", "chat__status", { role: "status", "aria-live": "polite" });
    statusEl.textContent = "Connecting…";
    var restartButton = el("button", "chat__restart", {
      type: "button", "aria-label": "Start a new conversation", title: "Start a new conversation"
    });
    restartButton.textContent = "New chat";
    header.appendChild(title); header.appendChild(statusEl); header.appendChild(restartButton);
    if (options.onClose) {
      var closeButton = el("button", "chat__close", { type: "button", "aria-label": "Close the chat", title: "Close" });
      closeButton.textContent = "Close";
      closeButton.addEventListener("click", options.onClose);
      header.appendChild(closeButton);
    }
    var banner = el("div", "chat__banner", { role: "alert" });
    banner.hidden = true;
    var log = el("ol", "chat__log", {
      role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": "Conversation", tabindex: "0"
    });
    var typingEl = el("div", "chat__typing", { "aria-hidden": "true" });
    typingEl.hidden = true;
    var typingText = el("span", "chat__sr");
    typingText.textContent = "The assistant is typing";
    typingEl.appendChild(typingText);
    for (var d = 0; d < 3; d++) { typingEl.appendChild(el("span")); }
    var form = el("form", "chat__form", { autocomplete: "off" });
    var field = el("label", "chat__field");
    var fieldName = el("span", "chat__sr");
    fieldName.textContent = "Your message";
    var input = el("input", "chat__input", { name: "message", maxlength: "2000", placeholder: "Type your message…" });
    input.disabled = true;
    field.appendChild(fieldName); field.appendChild(input);
    var sendButton = el("button", "chat__send", { type: "submit" });
    sendButton.textContent = "Send";
    sendButton.disabled = true;
    form.appendChild(field); form.appendChild(sendButton);
    [header, banner, log, typingEl, form].forEach(function (n) { root.appendChild(n); });
    container.appendChild(root);

    var config = null;        // widget.json: {bot, label, socket_url, socket_path, token_url, restart_url, csrf_token}
    var grant = null;         // {token, session_id, bot, expires_at}
    var socket = null;
    var refreshTimer = null, typingTimer = null, confirmTimer = null;
    var retryDelay = 1000;
    var history = [];

    function storageKey(sessionId) { return STORAGE_PREFIX + config.bot + ":" + sessionId; }

    function fetchToken() {
      return postJSON(config.token_url, config.csrf_token).then(function (t) { grant = t; scheduleRefresh(); return t; });
    }

    /* ---------- rendering ---------- */
    function render(msg, live) {
      var item = el("li", "msg msg--" + msg.from);
      var bubble = el("div", "msg__bubble");
      var who = el("span", "chat__sr");
      who.textContent = msg.from === "user" ? "You said: " : (msg.from === "bot" ? "Assistant: " : "Notice: ");
      bubble.appendChild(who);
      if (msg.text) { appendText(bubble, msg.text); }
      if (msg.image) {
        var img = el("img", "msg__image", { src: msg.image, alt: msg.alt || "Image from the assistant" });
        bubble.appendChild(img);
      }
      item.appendChild(bubble);
      if (msg.buttons && msg.buttons.length) {
        var row = el("div", "msg__buttons", { role: "group", "aria-label": "Suggested replies" });
        msg.buttons.forEach(function (b) {
          var button = el("button", "", { type: "button" });
          button.textContent = b.title;
          button.disabled = !!msg.answered || !live;
          button.addEventListener("click", function () {
            msg.answered = true;
            row.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
            persist();
            send(b.payload, b.title);
          });
          row.appendChild(button);
        });
        item.appendChild(row);
      }
      var time = el("time", "msg__time", { datetime: new Date(msg.ts).toISOString() });
      time.textContent = timeLabel(msg.ts);
      item.appendChild(time);
      log.appendChild(item);
      log.scrollTop = log.scrollHeight;
      return item;
    }

    function add(msg) {
      msg.ts = msg.ts || Date.now();
      history.push(msg);
      if (history.length > MAX_HISTORY) { history = history.slice(-MAX_HISTORY); }
      persist();
      var item = render(msg, true);
      // Pages that record the conversation (the studies app) listen for this; restored history does not fire it.
      container.dispatchEvent(new CustomEvent("chat:message", {
        bubbles: true, detail: { from: msg.from, text: msg.text || "", ts: msg.ts, sent: msg.sent, original: msg.original }
      }));
      return item;
    }

    function persist() {
      var store = storage();
      if (!store || !grant) { return; }
      try { store.setItem(storageKey(grant.session_id), JSON.stringify(history)); } catch (e) { /* full */ }
    }

    function restoreHistory(sessionId) {
      // This bot's history for this conversation; the bot's older conversations are dropped.
      var store = storage(), saved = null;
      if (store) {
        var prefix = STORAGE_PREFIX + config.bot + ":";
        for (var i = store.length - 1; i >= 0; i--) {
          var key = store.key(i);
          if (key && key.indexOf(prefix) === 0 && key !== storageKey(sessionId)) { store.removeItem(key); }
        }
        try { saved = JSON.parse(store.getItem(storageKey(sessionId)) || "null"); } catch (e) { saved = null; }
      }
      history = Array.isArray(saved) ? saved : [];
      log.textContent = "";
      history.forEach(function (m, i) { render(m, i === history.length - 1); });
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
      // options.transformOutgoing(text) -> text: what the bot gets instead of what was typed (not button payloads)
      var sent = !shownAs && options.transformOutgoing ? options.transformOutgoing(text) : text;
      add({ from: "user", text: shownAs || text, sent: sent !== text ? sent : undefined });
      typing(true);
      socket.emit("user_uttered", { message: sent, session_id: grant.session_id });
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
      socket = io(config.socket_url, {
        path: config.socket_path || "/socket.io",
        transports: ["websocket"],
        auth: tokenForConnect,
        forceNew: true,               // one connection per widget, even for two widgets of one server
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
      socket.on("session_confirm", function () {
        clearTimeout(confirmTimer);
        setOnline(true);
        if (autofocus) { input.focus(); autofocus = false; }
      });
      socket.on("bot_uttered", function (data) {
        // options.transformIncoming(msg) -> [msg, ...]: what is shown instead of the reply (msg.original: the reply)
        var msg = fromBot(data);
        (options.transformIncoming ? options.transformIncoming(msg) : [msg]).forEach(add);
      });
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
      var old = grant;
      postJSON(config.restart_url, config.csrf_token).then(function (t) {
        grant = t;
        scheduleRefresh();
        var store = storage();
        if (store && old) { store.removeItem(storageKey(old.session_id)); }
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

    getJSON(configUrl).then(function (c) {
      config = c;
      if (!options.label && !container.getAttribute("data-label")) { title.textContent = c.label; }
      root.setAttribute("aria-label", "Chat with " + title.textContent);
      root.setAttribute("data-bot", c.bot);
      return fetchToken();
    }).then(function (t) {
      restoreHistory(t.session_id);
      openSocket();
    }).catch(function (err) {
      setOnline(false);
      showBanner("The chat is unavailable right now. Please reload the page in a moment.");
      if (window.console) { console.error(err); }
    });

    return {
      element: root,
      focus: function () { if (!input.disabled) { input.focus(); } else { log.focus(); } }
    };
  }

  function mountAll(scope) {
    var found = (scope || document).querySelectorAll("[data-chat-widget]:not([data-chat-mounted])");
    return Array.prototype.map.call(found, function (node) {
      node.setAttribute("data-chat-mounted", "");
      return mount(node);
    });
  }

  window.ChatWidget = { mount: mount, mountAll: mountAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { mountAll(); });
  } else {
    mountAll();
  }
})();
