// The browser phone: texts and calls go to /simulator/api/..., which signs them like Twilio and
// posts them to the line's real webhooks. This script only draws what comes back.
"use strict";
(() => {
  const $ = (sel) => document.querySelector(sel);
  const API = location.pathname.replace(/\/$/, "") + "/api/";
  const AREAS = ["212", "305", "312", "415", "617", "713", "808", "919"];
  let phone = sessionStorage.getItem("mbc-sim-phone");
  let call = null; // {sid, gather, after}
  const shownOutbox = new Map(); // id -> {li, status}

  function newNumber() {
    const area = AREAS[Math.floor(Math.random() * AREAS.length)];
    return "+1" + area + "5550" + String(100 + Math.floor(Math.random() * 100));
  }
  if (!phone) { phone = newNumber(); sessionStorage.setItem("mbc-sim-phone", phone); }

  async function api(path, body) {
    const options = body === undefined ? {} : {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
    };
    const resp = await fetch(API + path, options);
    if (!resp.ok) {
      // The server says why it refused (service/simulator/views.py answers {"error": ...}).
      let reason = "";
      try { reason = (await resp.json()).error || ""; } catch (_) { reason = ""; }
      throw new Error(`refused (HTTP ${resp.status})` + (reason ? `: ${reason}` : ""));
    }
    return resp.json();
  }

  function add(list, cls, text, meta) {
    const li = document.createElement("li");
    li.className = cls;
    li.textContent = text;
    if (meta) {
      const span = document.createElement("span");
      span.className = "meta";
      span.textContent = meta;
      li.appendChild(span);
    }
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
    return li;
  }

  function showDocuments(docs) {
    const box = $("#documents");
    box.textContent = "";
    for (const doc of docs.slice(-4)) {
      const div = document.createElement("div");
      div.className = "doc";
      const url = document.createElement("div");
      url.className = "url";
      url.textContent = `POST ${doc.url} → ${doc.status}`;
      const pre = document.createElement("pre");
      pre.tabIndex = 0; // it scrolls: keyboard users must reach it too
      pre.setAttribute("aria-label", `TwiML answered to ${doc.url}`);
      pre.textContent = (doc.twiml || "").replace(/></g, ">\n<");
      div.append(url, pre);
      box.appendChild(div);
    }
  }

  const when = (iso) => new Date(iso).toLocaleString([], {weekday: "short", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit"});

  function outboxMeta(row) {
    if (row.status === "queued") {
      const due = `due ${when(row.send_at || row.due_at)}`;
      return `queued text (${row.source}) · ${due}` + (row.quiet_hours ? " · held for quiet hours (the line texts only in the daytime)" : "");
    }
    const at = row.sent_at ? ` ${when(row.sent_at)}` : "";
    if (row.status === "cancelled") return `text from the line (${row.source}) · cancelled, never sent`;
    return `text from the line (${row.source}) · ${row.status}${at}`;
  }

  // Texts the line queued for this number: shown at once with their due time, then updated as the
  // worker (make run starts it) sends them.
  async function refreshOutbox() {
    const rows = await api("outbox?phone=" + encodeURIComponent(phone));
    for (const row of rows) {
      const shown = shownOutbox.get(row.id);
      if (shown && shown.status === row.status) continue;
      const kind = {queued: "queued", sending: "queued", cancelled: "cancelled", failed: "failed",
        undelivered: "failed"}[row.status] || "sent";
      const cls = "in " + kind;
      if (shown) {
        shown.li.className = cls;
        shown.li.querySelector(".meta").textContent = outboxMeta(row);
        shown.status = row.status;
        continue;
      }
      const li = add($("#thread"), cls, row.body, outboxMeta(row));
      li.dataset.outbox = String(row.id);
      li.dataset.status = row.status;
      shownOutbox.set(row.id, {li, status: row.status});
    }
  }

  // --- texts ---
  $("#composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#sms-body");
    const body = input.value.trim();
    if (!body) return;
    input.value = "";
    add($("#thread"), "out", body);
    try {
      const res = await api("sms", {phone, body});
      for (const text of res.messages) add($("#thread"), "in", text);
      if (!res.messages.length) {
        const why = res.held_back ? res.held_back.text : `HTTP ${res.status}`;
        const li = add($("#thread"), "in held", "(no reply)", why);
        if (res.held_back) li.dataset.held = res.held_back.code;
      }
      showDocuments([{url: "/twilio/sms", status: res.status, twiml: res.twiml}]);
      await refreshOutbox();
    } catch (err) {
      add($("#thread"), "in error", String(err.message || err));
    }
  });

  // --- calls ---
  const log = (cls, text, meta) => add($("#call-log"), cls, text, meta);

  function setCallControls(active, speech) {
    for (const key of document.querySelectorAll(".key")) key.disabled = !active;
    $("#call-silence").disabled = !active;
    $("#call-end").disabled = !active;
    $("#call-start").disabled = active;
    $("#speech-text").disabled = !(active && speech);
    $("#speech-send").disabled = !(active && speech);
  }

  function handleStep(res) {
    for (const ev of res.events) {
      if (ev.type === "say") log("say", ev.text, `<Say> · ${ev.language} · ${ev.voice || "default voice"}`);
      else if (ev.type === "play") log("play", "▶ recorded prompt", ev.url);
      else log("note", ev.text);
    }
    showDocuments(res.documents);
    if (res.ended || !res.gather) {
      call = null;
      $("#call-status").textContent = "Call ended";
      setCallControls(false, false);
    } else {
      call = {sid: res.call_sid, gather: res.gather, after: res.after};
      const speech = (res.gather.input || "dtmf").includes("speech");
      $("#call-status").textContent = "In call · waiting for " + (speech ? `a key or speech (${res.gather.language})` : "a key")
        + ` · ${res.gather.timeout || 5} s timeout`;
      setCallControls(true, speech);
    }
    return refreshOutbox();
  }

  async function step(path, body, said) {
    if (!call) return;
    log("you", said);
    setCallControls(false, false);
    try {
      await handleStep(await api(path, {phone, call_sid: call.sid, ...body}));
    } catch (err) {
      log("note", String(err));
    }
  }

  $("#call-start").addEventListener("click", async () => {
    $("#call-log").textContent = "";
    $("#call-status").textContent = "Calling…";
    $("#call-start").disabled = true;
    try {
      await handleStep(await api("call", {phone}));
    } catch (err) {
      log("note", String(err));
      setCallControls(false, false);
    }
  });
  for (const key of document.querySelectorAll(".key")) {
    key.addEventListener("click", () => step("call/input", {action: call.gather.action, digits: key.dataset.key},
      `You pressed ${key.dataset.key}`));
  }
  $("#speech").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("#speech-text").value.trim();
    if (!text || !call) return;
    $("#speech-text").value = "";
    step("call/input", {action: call.gather.action, speech: text}, `You said: “${text}”`);
  });
  $("#call-silence").addEventListener("click", () => step("call/silence", {after: call.after}, "(silence)"));
  $("#call-end").addEventListener("click", () => {
    call = null;
    log("note", "You hung up");
    $("#call-status").textContent = "Call ended";
    setCallControls(false, false);
  });

  // --- tabs and number ---
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => {
      for (const t of document.querySelectorAll(".tab")) {
        t.classList.toggle("active", t === tab);
        t.setAttribute("aria-selected", String(t === tab));
      }
      for (const v of document.querySelectorAll(".view")) v.classList.toggle("active", v.id === "view-" + tab.dataset.view);
      if (tab.dataset.view === "messages") refreshOutbox().catch(() => {});
    });
  }
  $("#new-number").addEventListener("click", () => {
    phone = newNumber();
    sessionStorage.setItem("mbc-sim-phone", phone);
    $("#my-number").textContent = phone;
    $("#thread").textContent = "";
    $("#call-log").textContent = "";
    shownOutbox.clear();
  });
  $("#my-number").textContent = phone;
  refreshOutbox().catch(() => {});
  // While a text waits to be sent, look again every few seconds (only then: each look is a request
  // in the make run terminal).
  const waiting = () => [...shownOutbox.values()].some((s) => s.status === "queued" || s.status === "sending");
  setInterval(() => { if (!document.hidden && waiting()) refreshOutbox().catch(() => {}); }, 5000);
})();
