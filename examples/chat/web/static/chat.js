// Chat page: sends a message with POST R/chat/stream and shows the bot's
// reply as it streams in (Server-Sent Events read from the fetch body).
"use strict";
(() => {
  const root = document.body.dataset.root || "";
  const messages = document.getElementById("messages");
  const emptyState = document.getElementById("empty-state");
  const form = document.getElementById("composer");
  const input = document.getElementById("message-input");
  const send = document.getElementById("send-button");
  const logout = document.getElementById("logout-button");
  const logoutEverywhere = document.getElementById("logout-everywhere-button");
  const errorBox = document.getElementById("chat-error");

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function addMessage(role, text) {
    const li = document.createElement("li");
    li.className = "message " + role;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    li.append(bubble);
    messages.append(li);
    emptyState.hidden = true;
    li.scrollIntoView({ block: "end" });
    return li;
  }

  // parseEvent reads one Server-Sent Event block ("event: x\ndata: {...}").
  function parseEvent(block) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
    }
    try {
      return { event, data: JSON.parse(data.join("\n") || "null") };
    } catch {
      return { event, data: null };
    }
  }

  async function streamReply(text, bot) {
    const bubble = bot.querySelector(".bubble");
    const res = await fetch(root + "/chat/stream", {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "text/event-stream" },
      body: new URLSearchParams({ message: text }),
    });
    if (res.status === 401) {
      // The session ended: the chat page's address sends the browser to
      // the sign-in page, saying why (expired, or ended elsewhere).
      window.location.replace(root + "/");
      return;
    }
    if (!res.ok || !res.body) {
      throw new Error(`HTTP ${res.status}`);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const { event, data } = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event === "token" && data) {
          bubble.textContent += data.text;
          bot.scrollIntoView({ block: "end" });
        } else if (event === "session_ended") {
          // Logged out on another device (or the session's time is up):
          // the sign-in page says which.
          const q = data && data.error ? "error=" + encodeURIComponent(data.error)
            : "notice=" + encodeURIComponent((data && data.notice) || "logged_out_elsewhere");
          window.location.replace(root + "/login?" + q);
          return;
        }
      }
    }
  }

  async function sendMessage(event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || send.disabled) return;
    input.value = "";
    autosize();
    showError("");
    send.disabled = true;
    addMessage("user", text);
    const bot = addMessage("bot", "");
    bot.classList.add("streaming");
    bot.dataset.state = "streaming";
    try {
      await streamReply(text, bot);
    } catch {
      bot.classList.add("failed");
      bot.querySelector(".bubble").textContent = "The reply could not be delivered. Please try again.";
    } finally {
      bot.classList.remove("streaming");
      bot.dataset.state = "done";
      send.disabled = false;
      input.focus();
    }
  }

  // autosize grows the message box with its text, up to the CSS max-height.
  function autosize() {
    input.style.height = "auto";
    const borders = input.offsetHeight - input.clientHeight;
    input.style.height = input.scrollHeight + borders + "px";
  }

  // logOut ends this session (path "/logout"), or every session of the
  // user in every browser (path "/logout/everywhere").
  async function logOut(path) {
    logout.disabled = logoutEverywhere.disabled = true;
    try {
      const res = await fetch(root + path, { method: "POST", credentials: "same-origin" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      window.location.replace(root + "/login?notice=logged_out");
    } catch {
      showError("Logging out failed. Please try again.");
      logout.disabled = logoutEverywhere.disabled = false;
    }
  }

  form.addEventListener("submit", sendMessage);
  input.addEventListener("input", autosize);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      form.requestSubmit();
      e.preventDefault();
    }
  });
  logout.addEventListener("click", () => logOut("/logout"));
  logoutEverywhere.addEventListener("click", () => logOut("/logout/everywhere"));
  document.body.dataset.ready = "true";
  input.focus();
})();
