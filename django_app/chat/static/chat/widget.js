/* Chat widget: fetches a short-lived JWT from Django, then talks to Rasa's
 * socket.io channel directly. No framework, nothing loaded from a CDN. */
(function () {
  "use strict";
  var root = document.getElementById("chat");
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var send = document.getElementById("chat-send");
  var statusEl = document.getElementById("chat-status");
  var socketUrl = root.dataset.socketUrl;
  var tokenUrl = root.dataset.tokenUrl;
  var sessionId = null;
  var socket = null;
  var refreshTimer = null;

  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  function setStatus(text, ready) {
    statusEl.textContent = text;
    input.disabled = !ready;
    send.disabled = !ready;
  }

  function add(kind, text) {
    var item = document.createElement("li");
    item.className = "msg msg--" + kind;
    item.textContent = text;
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function sendText(text, shown) {
    if (!socket || !sessionId) return;
    add("user", shown || text);
    socket.emit("user_uttered", { message: text, session_id: sessionId });
  }

  function showBot(msg) {
    var item = add("bot", msg.text || "");
    var buttons = msg.quick_replies || msg.buttons || [];
    if (buttons.length) {
      var row = document.createElement("div");
      row.className = "msg__buttons";
      buttons.forEach(function (b) {
        var el = document.createElement("button");
        el.type = "button";
        el.textContent = b.title;
        el.addEventListener("click", function () { sendText(b.payload, b.title); });
        row.appendChild(el);
      });
      item.appendChild(row);
    }
    if (msg.attachment && msg.attachment.type === "image" && msg.attachment.payload) {
      var img = document.createElement("img");
      img.src = msg.attachment.payload.src;
      img.alt = "";
      img.style.maxWidth = "100%";
      item.appendChild(img);
    }
  }

  function fetchToken() {
    return fetch(tokenUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": cookie("csrftoken") }
    }).then(function (r) {
      if (!r.ok) throw new Error("token request failed: " + r.status);
      return r.json();
    });
  }

  function scheduleRefresh(expiresAt) {
    clearTimeout(refreshTimer);
    var ms = Math.max(5000, (expiresAt * 1000 - Date.now()) - 60000);
    refreshTimer = setTimeout(function () {
      fetchToken().then(function (t) {
        socket.auth.token = t.token;  // used on the next (re)connection
        scheduleRefresh(t.expires_at);
      }).catch(function () { scheduleRefresh(Date.now() / 1000 + 70); });
    }, ms);
  }

  function connect(t) {
    sessionId = t.session_id;
    socket = io(socketUrl, { auth: { token: t.token }, transports: ["websocket"], reconnectionDelayMax: 10000 });
    socket.on("connect", function () {
      socket.emit("session_request", { session_id: sessionId });
    });
    socket.on("session_confirm", function () { setStatus("Online", true); input.focus(); });
    socket.on("bot_uttered", showBot);
    socket.on("disconnect", function () { setStatus("Reconnecting…", false); });
    socket.on("connect_error", function () {
      setStatus("Offline, retrying…", false);
      // The token may have expired: get a fresh one for the next attempt.
      fetchToken().then(function (fresh) { socket.auth.token = fresh.token; }).catch(function () {});
    });
    scheduleRefresh(t.expires_at);
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    sendText(text);
  });

  fetchToken().then(connect).catch(function (err) {
    setStatus("Offline", false);
    add("error", "The chat is unavailable right now. Please reload the page in a moment.");
    if (window.console) console.error(err);
  });
})();
