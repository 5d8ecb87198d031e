// The phone view: pick a simulated resident, see their rich menu, tap it,
// type text, send a location, and read what the account sent them.  It uses
// only linesim's control API (/sim/...) and the Messaging API with the
// simulator's own channel token, exactly as a test would.
"use strict";

const $ = (id) => document.getElementById(id);
let token = "";
let resident = "";
let sent = [];          // what this page sent as the resident: {text, at}
let menuId = "";

function status(text) { $("status").textContent = text; }

async function call(method, path, body, auth) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth) headers["Authorization"] = "Bearer " + token;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = { raw: text }; }
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json && json.message ? json.message : text}`);
  return json;
}

// Every "text" in a flex or template message, in order: shown plainly.
function texts(node, out) {
  if (Array.isArray(node)) node.forEach((n) => texts(n, out));
  else if (node && typeof node === "object") {
    if (typeof node.text === "string") out.push(node.text);
    for (const k of Object.keys(node)) if (k !== "text") texts(node[k], out);
  }
  return out;
}

function describe(m) {
  switch (m.type) {
  case "text": return m.text;
  case "sticker": return `［スタンプ ${m.packageId}/${m.stickerId}］`;
  case "image": return { image: m.previewImageUrl || m.originalContentUrl };
  case "location": return `📍 ${m.title || ""}\n${m.address || ""}\n(${m.latitude}, ${m.longitude})`;
  case "flex": return `［${m.altText}］\n` + texts(m.contents, []).join("\n");
  case "template": return `［${m.altText}］\n` + texts(m.template, []).join("\n");
  case "imagemap": return `［${m.altText}］`;
  default: return `［${m.type}］`;
  }
}

function bubble(side, content, meta) {
  const li = document.createElement("li");
  li.className = side;
  const div = document.createElement("div");
  div.className = "bubble";
  if (content && content.image) {
    const img = document.createElement("img");
    img.src = content.image;
    img.alt = "画像";
    div.appendChild(img);
  } else {
    div.textContent = content;
  }
  if (meta) {
    const span = document.createElement("span");
    span.className = "meta";
    span.textContent = meta;
    div.appendChild(span);
  }
  li.appendChild(div);
  return li;
}

// Inbox entries: accept {messages:[…]} or […]; each entry either holds the
// LINE message under .message or is the message.
function entries(inbox) {
  const list = Array.isArray(inbox) ? inbox : (inbox && (inbox.messages || inbox.inbox)) || [];
  return list.map((e) => ({ message: e.message || e, at: e.timestamp || e.at || 0, endpoint: e.endpoint || "" }));
}

async function refreshTalk() {
  if (!resident) return;
  const inbox = entries(await call("GET", `/sim/users/${resident}/inbox`));
  const talk = $("talk");
  talk.replaceChildren();
  const all = inbox.map((e) => ({ side: "bot", ...e }))
    .concat(sent.map((s) => ({ side: "me", message: { type: "text", text: s.text }, at: s.at })));
  all.sort((a, b) => a.at - b.at);
  let last = null;
  for (const e of all) {
    const meta = e.side === "bot" && e.endpoint ? e.endpoint.replace("/v2/bot/message/", "") : "";
    talk.appendChild(bubble(e.side, describe(e.message), meta));
    if (e.side === "bot") last = e.message;
  }
  talk.scrollTop = talk.scrollHeight;
  showQuickReplies(last);
}

function showQuickReplies(m) {
  const q = $("quick");
  q.replaceChildren();
  const items = m && m.quickReply && m.quickReply.items ? m.quickReply.items : [];
  q.hidden = items.length === 0;
  for (const it of items) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = it.action.label || it.action.text || it.action.type;
    b.addEventListener("click", () => act(it.action));
    q.appendChild(b);
  }
}

// Do what tapping an action does in LINE.
async function act(action) {
  if (action.type === "message") return sendEvent({ type: "message", text: action.text }, action.text);
  if (action.type === "postback") return sendEvent({ type: "postback", data: action.data }, action.displayText);
  if (action.type === "uri") { window.open(action.uri, "_blank", "noopener"); return; }
  if (action.type === "location") return sendLocation();
  status(`このシミュレーターでは ${action.type} アクションは未対応です`);
}

async function sendEvent(event, shownText) {
  if (!resident) return;
  if (shownText) sent.push({ text: shownText, at: Date.now() });
  try {
    const r = await call("POST", `/sim/users/${resident}/events`, event);
    status(`webhook: ${r && r.webhookStatus !== undefined ? r.webhookStatus : "送信しました"}`);
  } catch (e) { status(e.message); }
  await refreshTalk();
  await refreshMenu();
}

async function sendLocation() {
  // Takasaki city hall unless the page is told otherwise.
  const where = prompt("緯度,経度（例: 36.3219,139.0033）", "36.3219,139.0033");
  if (!where) return;
  const [lat, lon] = where.split(",").map(Number);
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) { status("緯度,経度の形で入力してください"); return; }
  sent.push({ text: `📍 ${lat}, ${lon}`, at: Date.now() });
  await sendEvent({ type: "location", latitude: lat, longitude: lon, title: "現在地", address: "" });
}

async function refreshMenu() {
  const section = $("menu");
  let r = null;
  try { r = await call("GET", `/sim/users/${resident}/richmenu`); } catch (e) { r = null; }
  const id = r && r.richMenuId;
  if (!id) { section.hidden = true; menuId = ""; return; }
  section.hidden = false;
  if (id === menuId) return;
  menuId = id;
  const menu = await call("GET", `/v2/bot/richmenu/${id}`, undefined, true);
  const img = await fetch(`/v2/bot/richmenu/${id}/content`, { headers: { Authorization: "Bearer " + token } });
  $("menu-image").src = img.ok ? URL.createObjectURL(await img.blob()) : "";
  $("menu-toggle").textContent = (menu.chatBarText || "メニュー") + " ▾";
  const areas = $("menu-areas");
  areas.replaceChildren();
  for (const a of menu.areas || []) {
    const b = document.createElement("button");
    b.type = "button";
    b.style.left = (100 * a.bounds.x / menu.size.width) + "%";
    b.style.top = (100 * a.bounds.y / menu.size.height) + "%";
    b.style.width = (100 * a.bounds.width / menu.size.width) + "%";
    b.style.height = (100 * a.bounds.height / menu.size.height) + "%";
    b.setAttribute("aria-label", a.action.label || a.action.text || a.action.displayText || a.action.type);
    b.addEventListener("click", () => {
      // The simulator turns the tap into the webhook LINE would send.
      const cx = a.bounds.x + Math.floor(a.bounds.width / 2);
      const cy = a.bounds.y + Math.floor(a.bounds.height / 2);
      if (a.action.type === "uri") window.open(a.action.uri, "_blank", "noopener");
      sendEvent({ type: "richmenu_tap", x: cx, y: cy }, a.action.type === "message" ? a.action.text : null);
    });
    areas.appendChild(b);
  }
}

async function loadResidents(select) {
  const r = await call("GET", "/v2/bot/followers/ids?limit=1000", undefined, true);
  const box = $("resident");
  box.replaceChildren();
  for (const id of r.userIds || []) {
    const o = document.createElement("option");
    o.value = id;
    o.textContent = id.slice(0, 9) + "…";
    box.appendChild(o);
  }
  if (select) box.value = select;
  await pick(box.value);
}

async function pick(id) {
  resident = id || "";
  sent = [];
  menuId = "";
  if (!resident) { status("利用者がいません。「＋友だち」で追加してください。"); return; }
  await refreshTalk();
  await refreshMenu();
}

$("resident").addEventListener("change", (e) => pick(e.target.value));
$("add-resident").addEventListener("click", async () => {
  const r = await call("POST", "/sim/users", { count: 1 });
  await loadResidents(r.userIds[0]);
});
$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  $("text").value = "";
  sendEvent({ type: "message", text }, text);
});
$("location").addEventListener("click", sendLocation);
$("menu-toggle").addEventListener("click", () => {
  const body = $("menu-body");
  body.hidden = !body.hidden;
  $("menu-toggle").setAttribute("aria-expanded", String(!body.hidden));
});

(async () => {
  try {
    token = (await call("GET", "/sim/channel")).channelAccessToken;
    await loadResidents();
    setInterval(() => refreshTalk().catch((e) => status(e.message)), 2000);
  } catch (e) { status(e.message); }
})();
