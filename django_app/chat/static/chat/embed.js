/* Embedding: one tag on any page of the site gives a floating chat button that opens the chat.
 *
 *   <script src="https://SITE/static/chat/embed.js" data-bot="demo" data-site="https://SITE" defer></script>
 *
 * data-bot     the bot's id in the site's registry (required)
 * data-site    the Django site's address, with its path prefix if any (default: the script's origin)
 * data-label   the button's text (default: the bot's label)
 *
 * Loads the widget's stylesheet, the socket.io client and widget.js from the same static folder
 * as this file (no CDN), each once however many tags the page has; one tag per bot, their buttons
 * stacked. The chat mounts the first time it is opened; whether it is open is remembered for the
 * tab (sessionStorage), so a reload brings it back as it was, history included. Keyboard: the
 * button is a real button (Enter/Space), focus moves into the chat when it opens, Escape closes
 * it and gives the focus back to the button. docs/widget.md has the details. */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) { return; }
  var bot = script.getAttribute("data-bot");
  if (!bot) { if (window.console) { console.error("embed.js: data-bot is required"); } return; }
  var staticBase = script.src.replace(/chat\/embed\.js(\?.*)?$/, "");
  var site = (script.getAttribute("data-site") || new URL(script.src).origin).replace(/\/+$/, "");
  var configUrl = site + "/chat/" + encodeURIComponent(bot) + "/widget.json";
  var openKey = "chat:open:" + bot;
  var index = (window.__chatEmbeds = (window.__chatEmbeds || 0) + 1) - 1;

  function once(id, make) {
    // one stylesheet / script element per page, shared by every embed tag
    var loads = (window.__chatLoads = window.__chatLoads || {});
    if (!loads[id]) { loads[id] = make(); }
    return loads[id];
  }

  function loadScript(src, ready) {
    return new Promise(function (resolve, reject) {
      if (ready()) { resolve(); return; }
      var tag = document.createElement("script");
      tag.src = src;
      tag.onload = function () { resolve(); };
      tag.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(tag);
    });
  }

  once("css", function () {
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = staticBase + "chat/widget.css";
    document.head.appendChild(link);
    return true;
  });
  var ready = once("js", function () {
    return loadScript(staticBase + "vendor/socket.io/socket.io.min.js", function () { return !!window.io; })
      .then(function () { return loadScript(staticBase + "chat/widget.js", function () { return !!window.ChatWidget; }); });
  });

  var button = document.createElement("button");
  button.type = "button";
  button.className = "chat-launcher";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("data-bot", bot);
  button.style.bottom = (1.25 + index * 4) + "rem";
  button.innerHTML = '<svg class="chat-launcher__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">' +
    '<path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';
  var buttonText = document.createElement("span");
  buttonText.textContent = script.getAttribute("data-label") || "Chat with us";
  button.appendChild(buttonText);

  var panel = document.createElement("div");
  panel.className = "chat-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", buttonText.textContent);
  panel.setAttribute("data-bot", bot);
  panel.hidden = true;
  var widget = null;

  function remember(open) {
    try { window.sessionStorage.setItem(openKey, open ? "1" : "0"); } catch (e) { /* storage disabled */ }
  }

  function open(focus) {
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    remember(true);
    if (!widget) {
      ready.then(function () {
        widget = window.ChatWidget.mount(panel, { configUrl: configUrl, autofocus: focus, onClose: close });
      }).catch(function (err) {
        panel.textContent = "The chat could not be loaded.";
        if (window.console) { console.error(err); }
      });
    } else if (focus) {
      widget.focus();
    }
  }

  function close() {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    remember(false);
    button.focus();
  }

  button.addEventListener("click", function () { if (panel.hidden) { open(true); } else { close(); } });
  panel.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { close(); } });

  function start() {
    document.body.appendChild(panel);
    document.body.appendChild(button);
    // the label comes from the registry unless the tag sets one
    if (!script.getAttribute("data-label")) {
      fetch(configUrl, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (c) {
          if (c && c.label) { buttonText.textContent = "Chat: " + c.label; panel.setAttribute("aria-label", c.label); }
        }).catch(function () { /* the button still opens the chat, which says what is wrong */ });
    }
    var wasOpen = false;
    try { wasOpen = window.sessionStorage.getItem(openKey) === "1"; } catch (e) { wasOpen = false; }
    if (wasOpen) { open(false); }
  }

  if (document.body) { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();
