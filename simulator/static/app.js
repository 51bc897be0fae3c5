// The simulator's chat page: one conversation per simulated phone, refreshed by polling.
// Every message is built with DOM calls and textContent: what the assistant sends is never HTML.
"use strict";

const POLL_MS = 700;
const state = {
  phones: [],          // [{wa_id, name, count, last_seq, last_preview}]
  current: null,       // wa_id of the open chat
  shownSeq: 0,         // the last message of the open chat on screen
  seen: {},            // wa_id -> last_seq the user has looked at (for unread badges)
  rows: new Map(),     // seq -> row element of the open chat (sent messages change status)
  loading: false,
};

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key === "testid") node.dataset.testid = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// WhatsApp's *bold*, _italic_ and ~strike~, kept as text nodes inside elements.
function formatted(text) {
  const out = [];
  const pattern = /\*([^*\n]+)\*|_([^_\n]+)_|~([^~\n]+)~/g;
  let last = 0, match;
  while ((match = pattern.exec(text)) !== null) {
    if (match.index > last) out.push(text.slice(last, match.index));
    if (match[1] !== undefined) out.push(el("strong", {}, match[1]));
    else if (match[2] !== undefined) out.push(el("em", {}, match[2]));
    else out.push(el("s", {}, match[3]));
    last = pattern.lastIndex;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

async function api(path, options) {
  const reply = await fetch(path, options);
  let body = null;
  try { body = await reply.json(); } catch (e) { body = null; }
  if (!reply.ok && !(body && body.seq)) {
    throw new Error((body && body.error) || `HTTP ${reply.status}`);
  }
  return body;
}

// kind "poll" marks a lost connection, which the next good poll clears; other errors stay until the next send.
function showError(message, kind) {
  const bar = $("error");
  bar.dataset.kind = kind || "send";
  if (!message) { bar.classList.add("hidden"); bar.textContent = ""; return; }
  bar.textContent = message;
  bar.classList.remove("hidden");
}

function clock(seconds) {
  const at = new Date(seconds * 1000);
  return at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// --- Chats ---

function initials(name) {
  const words = String(name || "?").trim().split(/\s+/);
  return (words[0][0] + (words.length > 1 ? words[words.length - 1][0] : "")).toUpperCase();
}

function renderChats() {
  const list = $("chat-list");
  list.replaceChildren(...state.phones.map((phone) => {
    const unread = phone.wa_id !== state.current && phone.last_seq > (state.seen[phone.wa_id] || 0);
    return el("li", {
      testid: `chat-${phone.wa_id}`, class: phone.wa_id === state.current ? "active" : "",
      "data-wa-id": phone.wa_id, onclick: () => openChat(phone.wa_id),
    },
      el("div", { class: "avatar" }, initials(phone.name)),
      el("div", { class: "who" },
        el("div", { class: "name" }, phone.name),
        el("div", { class: "number" }, "+" + phone.wa_id),
        el("div", { class: "preview" }, phone.last_preview || "")),
      unread ? el("span", { class: "unread", testid: `unread-${phone.wa_id}` }, "new") : null);
  }));
}

async function refreshPhones() {
  state.phones = await api("/sim/api/phones");
  renderChats();
}

function openChat(waId) {
  if (state.current === waId) return;
  state.current = waId;
  state.shownSeq = 0;
  state.rows.clear();
  $("messages").replaceChildren();
  $("messages").dataset.phone = waId;
  const phone = state.phones.find((p) => p.wa_id === waId);
  $("current-phone").textContent = waId;
  $("current-phone-name").textContent = phone ? phone.name : "";
  if (location.hash !== "#" + waId) history.replaceState(null, "", "#" + waId);
  closeList();
  $("location-form").classList.add("hidden");
  showError("");
  renderChats();
  poll();
}

// --- One conversation ---

function messageRow(entry) {
  const row = el("div", {
    class: `row ${entry.direction}` + (entry.status === "failed" ? " failed" : ""),
    testid: entry.direction === "sent" ? "message-sent" : "message-received",
    "data-seq": entry.seq, "data-type": entry.type, "data-status": entry.status || "",
    "data-message-id": entry.id || "",
  });
  const bubble = el("div", { class: "bubble", testid: "bubble" });
  bubble.append(...messageBody(entry));
  bubble.append(metaLine(entry));
  row.append(bubble);
  if (entry.direction === "received" && entry.type === "interactive") {
    const extra = interactiveControls(entry);
    if (extra) row.append(extra);
  }
  return row;
}

function metaLine(entry) {
  const meta = el("div", { class: "meta" }, clock(entry.at));
  if (entry.direction === "sent") {
    const marks = { sending: "…", delivered: "✓✓", failed: "!" };
    meta.append(" ", el("span", { class: `ticks ${entry.status}`, testid: "ticks" }, marks[entry.status] || ""));
    if (entry.status === "failed" && entry.error) {
      meta.append(el("div", { class: "failed-note" }, entry.error));
    }
  }
  return meta;
}

function messageBody(entry) {
  const content = entry.content || {};
  switch (entry.type) {
    case "text":
      return [el("span", { class: "text", testid: "text" }, formatted(content.body || ""))];
    case "interactive":
      return interactiveBody(entry, content);
    case "document":
      return documentBody(entry, content);
    case "image":
      return [el("div", { class: "image" },
        el("img", { src: entry.media_url || content.link || "", alt: content.caption || "photo", testid: "image" })),
        content.caption ? el("div", { class: "caption", testid: "caption" }, formatted(content.caption)) : null];
    case "location":
      return [el("div", { class: "location-pin", testid: "location" },
        el("span", { class: "pin-mark" }, "Location"), " ", content.name || "", content.address ? ` · ${content.address}` : "",
        el("div", { class: "kind-label" }, `${content.latitude}, ${content.longitude}`))];
    case "template":
      return templateBody(content);
    default:
      return [el("span", { class: "kind-label" }, `[${entry.type}]`)];
  }
}

function interactiveBody(entry, content) {
  if (entry.direction === "sent") {
    // The phone's own tap on a button or list row.
    const reply = content[content.type] || {};
    return [el("div", { class: "reply-title", testid: "text" }, reply.title || reply.id || ""),
      el("div", { class: "kind-label" }, content.type === "list_reply" ? "list reply" : "button reply")];
  }
  const parts = [];
  if (content.header && content.header.text) parts.push(el("div", { class: "header-text" }, content.header.text));
  parts.push(el("span", { class: "text", testid: "text" }, formatted((content.body || {}).text || "")));
  if (content.footer && content.footer.text) parts.push(el("div", { class: "footer-text" }, content.footer.text));
  return parts;
}

function interactiveControls(entry) {
  const content = entry.content || {};
  const action = content.action || {};
  if (content.type === "button") {
    return el("div", { class: "reply-buttons", testid: "reply-buttons" },
      (action.buttons || []).map((button) => {
        const reply = button.reply || {};
        return el("button", {
          type: "button", testid: "reply-button", "data-id": reply.id,
          onclick: () => sendJson({ type: "button_reply", id: reply.id, title: reply.title, context: entry.id }),
        }, reply.title || reply.id);
      }));
  }
  if (content.type === "list") {
    const open = el("button", {
      type: "button", class: "list-open", testid: "list-open",
      onclick: () => openList(entry, action),
    }, "≡ " + (action.button || "Choose"));
    return el("div", { class: "reply-buttons" }, open);
  }
  return null;
}

function documentBody(entry, content) {
  const filename = content.filename || "document";
  const href = entry.media_url || content.link || "";
  const parts = [el("div", { class: "document", testid: "document" },
    el("span", { class: "icon" }, /\.pdf$/i.test(filename) ? "PDF" : "DOC"),
    el("div", {},
      href ? el("a", { href, download: filename, target: "_blank", rel: "noopener", testid: "document-link" }, filename)
           : el("span", { testid: "document-name" }, filename),
      el("div", { class: "size" }, /\.pdf$/i.test(filename) ? "PDF" : (content.mime_type || ""))))];
  if (content.caption) parts.push(el("div", { class: "caption", testid: "caption" }, formatted(content.caption)));
  return parts;
}

// Only the template's name and parameters travel: its approved wording lives at Meta.
function templateBody(content) {
  const params = [], media = [];
  for (const component of content.components || []) {
    for (const parameter of component.parameters || []) {
      const file = parameter.document || parameter.image;
      if (file) {
        const href = file.id ? `/sim/media/${file.id}` : (file.link || "");
        media.push(parameter.type === "image"
          ? el("div", { class: "image" }, el("img", { src: href, alt: "photo", testid: "image" }))
          : documentBody({ media_url: href }, { filename: file.filename || "document.pdf" })[0]);
      } else {
        params.push(parameter.text !== undefined ? parameter.text : JSON.stringify(parameter));
      }
    }
  }
  const language = (content.language || {}).code || "";
  return [el("div", { class: "template-name", testid: "template-name" }, `Template ${content.name} (${language})`),
    ...media, el("span", { class: "text", testid: "text" }, params.length ? params.join("\n") : "(no parameters)")];
}

// --- The list sheet ---

function openList(entry, action) {
  $("list-title").textContent = action.button || "Choose";
  const rows = [];
  for (const section of action.sections || []) {
    if (section.title) rows.push(el("div", { class: "section-title" }, section.title));
    for (const row of section.rows || []) {
      rows.push(el("button", {
        type: "button", class: "list-row", testid: "list-row", "data-id": row.id,
        onclick: () => { closeList(); sendJson({ type: "list_reply", id: row.id, title: row.title, context: entry.id }); },
      }, el("div", {}, row.title), row.description ? el("div", { class: "row-description" }, row.description) : null));
    }
  }
  $("list-rows").replaceChildren(...rows);
  $("list-sheet").classList.remove("hidden");
}

function closeList() {
  $("list-sheet").classList.add("hidden");
}

// --- Polling ---

async function poll() {
  if (state.loading || !state.current) return true;
  state.loading = true;
  const waId = state.current;
  try {
    // Messages still "sending" on screen are asked for again, so their final status shows.
    let after = state.shownSeq;
    for (const [seq, row] of state.rows) {
      if (row.dataset.status === "sending") after = Math.min(after, seq - 1);
    }
    const answer = await api(`/sim/api/phones/${waId}/messages?after=${after}`);
    if (waId !== state.current) return true;  // the user switched chats meanwhile
    const box = $("messages");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    for (const entry of answer.messages) {
      const old = state.rows.get(entry.seq);
      if (old) {
        if (old.dataset.status !== (entry.status || "")) {
          const fresh = messageRow(entry);
          state.rows.set(entry.seq, fresh);
          old.replaceWith(fresh);
        }
        continue;
      }
      const row = messageRow(entry);
      state.rows.set(entry.seq, row);
      box.append(row);
      state.shownSeq = Math.max(state.shownSeq, entry.seq);
    }
    if (answer.messages.length && (atBottom || answer.messages.some((m) => m.direction === "sent"))) {
      box.scrollTop = box.scrollHeight;
    }
    state.seen[waId] = Math.max(state.seen[waId] || 0, answer.phone.last_seq);
    box.dataset.lastSeq = String(state.shownSeq);
    return true;
  } catch (error) {
    showError("Simulator unreachable: " + error.message, "poll");
    return false;
  } finally {
    state.loading = false;
  }
}

async function tick() {
  try {
    await refreshPhones();
    if ((await poll()) && $("error").dataset.kind === "poll") showError("");
  } catch (error) {
    showError("Simulator unreachable: " + error.message, "poll");
  }
}

// --- Sending ---

function showSent(entry) {
  // The server answers with the stored entry; put it (or its new status) on screen at once.
  if (!entry || entry.seq === undefined || entry.phone !== state.current) return;
  const old = state.rows.get(entry.seq);
  if (old) {
    const row = messageRow(entry);
    state.rows.set(entry.seq, row);
    old.replaceWith(row);
  } else {
    poll();  // not on screen yet: the poll brings it, after any earlier replies
  }
  if (entry.status === "failed") showError("Could not deliver: " + (entry.error || "the webhook refused it"));
}

async function sendJson(message) {
  const waId = state.current;
  try {
    showError("");
    const entry = await api(`/sim/api/phones/${waId}/send`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(message),
    });
    showSent(entry);
  } catch (error) {
    showError("Could not send: " + error.message);
  }
}

async function sendFile(kind, input) {
  const file = input.files && input.files[0];
  if (!file) return;
  const text = $("composer-text");
  const form = new FormData();
  form.append("kind", kind);
  form.append("caption", text.value.trim());
  form.append("file", file, file.name);
  text.value = "";
  input.value = "";
  try {
    showError("");
    const entry = await api(`/sim/api/phones/${state.current}/upload`, { method: "POST", body: form });
    showSent(entry);
  } catch (error) {
    showError("Could not send the file: " + error.message);
  }
}

function wire() {
  const text = $("composer-text");
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = text.value.trim();
    if (!body) return;
    text.value = "";
    sendJson({ type: "text", body });
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("attach-document").addEventListener("change", (event) => sendFile("document", event.target));
  $("attach-photo").addEventListener("change", (event) => sendFile("image", event.target));
  $("location-open").addEventListener("click", () => $("location-form").classList.toggle("hidden"));
  $("location-cancel").addEventListener("click", () => $("location-form").classList.add("hidden"));
  $("location-form").addEventListener("submit", (event) => {
    event.preventDefault();
    $("location-form").classList.add("hidden");
    sendJson({
      type: "location", latitude: $("location-latitude").value, longitude: $("location-longitude").value,
      name: $("location-name").value.trim(), address: $("location-address").value.trim(),
    });
  });
  $("list-close").addEventListener("click", closeList);
  $("list-sheet").addEventListener("click", (event) => { if (event.target === $("list-sheet")) closeList(); });
  $("new-phone-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("new-phone-error").textContent = "";
    try {
      const phone = await api("/sim/api/phones", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ wa_id: $("new-phone-number").value, name: $("new-phone-name").value }),
      });
      $("new-phone-number").value = "";
      $("new-phone-name").value = "";
      await refreshPhones();
      openChat(phone.wa_id);
    } catch (error) {
      $("new-phone-error").textContent = error.message;
    }
  });
  window.addEventListener("hashchange", () => {
    const waId = location.hash.slice(1);
    if (waId && waId !== state.current) {
      refreshPhones().then(() => openChat(waId));
    }
  });
}

async function start() {
  wire();
  try {
    await refreshPhones();
  } catch (error) {
    showError("Simulator unreachable: " + error.message);
  }
  const wanted = location.hash.slice(1);
  if (/^\d{5,15}$/.test(wanted) && !state.phones.some((p) => p.wa_id === wanted)) {
    // A number in the address opens that phone's chat, adding it when new.
    try {
      await api("/sim/api/phones", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ wa_id: wanted }) });
      await refreshPhones();
    } catch (error) { showError(error.message); }
  }
  const first = state.phones.find((p) => p.wa_id === wanted) || state.phones[0];
  if (first) openChat(first.wa_id);
  document.body.dataset.ready = "true";
  setInterval(tick, POLL_MS);
}

start();
