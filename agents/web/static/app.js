// The assistant's page: plain DOM, no framework, no HTML parsing of data (only textContent).
// (PubChem, UniProt, the model, the user) goes into the page as text, never as markup.
"use strict";

const state = { thread: null, busy: false };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function safeHttps(url) {
  return typeof url === "string" && url.startsWith("https://") ? url : null;
}

function externalLink(url, text) {
  const href = safeHttps(url);
  if (!href) return document.createTextNode(text);
  return el("a", { href, target: "_blank", rel: "noopener noreferrer", text });
}

// -- server-sent events over fetch (POST), parsed by hand -----------------------------------
async function streamTurn(path, body, handlers) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
    });
  } catch (error) {
    handlers.error({ message: "The assistant's server cannot be reached (" + error.message + ")." });
    return;
  }
  if (!response.ok) {
    let message = "The server refused the request (HTTP " + response.status + ").";
    try { message = (await response.json()).error || message; } catch (ignored) { /* not JSON */ }
    handlers.error({ message });
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of frame.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (!data.length) continue;
      const handler = handlers[name];
      if (handler) handler(JSON.parse(data.join("\n")));
    }
  }
}

// -- cards -------------------------------------------------------------------------------------
function facts(pairs) {
  const list = el("dl");
  for (const [term, value] of pairs) {
    if (value === null || value === undefined || value === "" ) continue;
    list.append(el("dt", { text: term }), el("dd", {}, value));
  }
  return list;
}

function moleculeCard(card) {
  const figure = el("article", { class: "card molecule", "aria-label": "Molecule " + card.name });
  if (typeof card.depiction === "string" && card.depiction.startsWith("/depict.svg?")) {
    figure.append(el("img", { src: card.depiction, alt: "2D structure of " + card.name, width: 260, height: 200 }));
  }
  figure.append(el("h4", { text: card.name }));
  figure.append(facts([
    ["CID", card.cid],
    ["Formula", card.formula],
    ["InChIKey", card.inchikey],
    ["Weight", card.molecular_weight ? card.molecular_weight + " g/mol" : null],
  ]));
  if (card.url) {
    figure.append(el("p", {}, externalLink(card.url, "PubChem CID " + card.cid),
      card.offline_snapshot ? " (bundled offline snapshot)" : ""));
  }
  return figure;
}

function proteinCard(card) {
  const box = el("article", { class: "card protein", "aria-label": "Protein " + card.name });
  box.append(el("h4", { text: card.name }));
  box.append(facts([
    ["Accession", card.accession],
    ["Entry", card.entry_name],
    ["Genes", (card.gene_names || []).join(", ")],
    ["Organism", card.organism],
    ["Length", card.length ? card.length + " aa" : null],
  ]));
  if (card.url) {
    box.append(el("p", {}, externalLink(card.url, "UniProt " + card.accession),
      card.offline_snapshot ? " (bundled offline snapshot)" : ""));
  }
  return box;
}

function errorCard(card) {
  return el("article", { class: "card error", role: "note" },
    el("h4", { text: (card.query || card.tool || "Lookup") + ": could not look it up" }), el("p", { text: card.message }));
}

function renderCard(card) {
  if (card.kind === "molecule") return moleculeCard(card);
  if (card.kind === "protein") return proteinCard(card);
  return errorCard(card);
}

function renderCards(container, cards) {
  container.replaceChildren(...(cards || []).map(renderCard));
}

// -- one assistant message -----------------------------------------------------------------------
class AssistantMessage {
  constructor() {
    this.node = el("section", { class: "msg assistant", "aria-busy": "true", "aria-label": "Assistant answer" });
    this.node.append(el("h3", { text: "Assistant" }));
    this.steps = el("ol", { class: "steps", "aria-label": "Steps", "aria-live": "off" });
    this.cards = el("div", { class: "cards", "aria-live": "off" });
    this.drafts = el("div", { class: "drafts", "aria-live": "off" });
    this.body = el("div", { class: "answer" });
    this.node.append(this.steps, this.cards, this.drafts, this.body);
    this.stepItems = new Map();
    this.draftItems = new Map();
    $("log").append(this.node);
  }

  step(data) {
    let item = this.stepItems.get(data.name);
    if (!item) {
      item = el("li", { "data-step": data.name });
      item.append(el("span", { class: "label" }), el("span", { class: "detail" }));
      this.stepItems.set(data.name, item);
      this.steps.append(item);
    }
    item.dataset.status = data.status;
    const mark = { done: " ✓", failed: " ✗" }[data.status] || "";
    item.querySelector(".label").textContent = data.label + mark;
    if (data.detail) item.querySelector(".detail").textContent = ": " + data.detail;
  }

  token(data) {
    let draft = this.draftItems.get(data.call);
    if (!draft) {
      draft = el("div", { class: "draft", "data-call": data.call });
      draft.append(el("strong", { text: "[" + data.label + " (" + data.tool + ")] " }), el("span", { class: "text" }));
      this.draftItems.set(data.call, draft);
      this.drafts.append(draft);
    }
    const text = draft.querySelector(".text");
    text.textContent += data.text;
  }

  answer(data) {
    this.drafts.replaceChildren();
    renderCards(this.cards, data.cards);
    const fromMemory = (data.answered_by || []).includes("memory");
    if (fromMemory) this.body.append(el("p", {}, el("span", { class: "badge", text: "answered from memory" })));
    this.body.append(el("div", { class: "answer-text", text: data.text }));
    if (data.sources && data.sources.length) {
      const list = el("ol", { class: "sources", "aria-label": "Sources" });
      for (const source of data.sources) {
        const item = el("li", { class: source.type || "", value: source.n });
        item.append(source.url ? externalLink(source.url, source.label) : document.createTextNode(source.label));
        list.append(item);
      }
      this.body.append(el("h4", { text: "Sources" }), list);
    }
    this.finish();
  }

  interrupt(data, onChoose) {
    const fieldset = el("fieldset", {}, el("legend", { text: data.message }));
    const buttons = [];
    for (const choice of data.choices || []) {
      const card = renderCard(choice.card);
      const button = el("button", { type: "button", class: "choice",
        text: "Choose " + choice.card.name + " (" + choice.choice + ")" });
      button.addEventListener("click", () => {
        buttons.forEach((b) => { b.disabled = true; });
        button.setAttribute("aria-pressed", "true");
        onChoose(choice.choice);
      });
      buttons.push(button);
      card.append(button);
      fieldset.append(card);
    }
    const box = el("div", { class: "interrupt" }, fieldset);
    fieldset.classList.add("cards");
    this.body.append(box);
    this.finish();
    if (buttons.length) buttons[0].focus();
  }

  error(data) {
    this.node.classList.add("error-msg");
    this.body.append(el("p", { class: "error", role: "alert", text: data.message }));
    this.finish();
  }

  finish() {
    this.node.setAttribute("aria-busy", "false");
  }
}

// -- the conversation ------------------------------------------------------------------------------
function addUserMessage(text) {
  $("log").append(el("section", { class: "msg user", "aria-label": "You asked" }, el("h3", { text: "You" }), text));
}

function setBusy(busy) {
  state.busy = busy;
  $("send").disabled = busy;
  $("send").textContent = busy ? "Answering…" : "Send";
}

async function runTurn(path, body) {
  const message = new AssistantMessage();
  setBusy(true);
  let paused = false;
  await streamTurn(path, body, {
    thread: (data) => setThread(data.id, false),
    step: (data) => message.step(data),
    cards: (data) => renderCards(message.cards, data.cards),
    token: (data) => message.token(data),
    answer: (data) => message.answer(data),
    interrupt: (data) => { paused = true; message.interrupt(data, choose); },
    error: (data) => message.error(data),
    done: () => message.finish(),
  });
  message.finish();
  setBusy(false);
  loadThreads();
  if (!paused) {
    $("question").focus();
    $("ask-form").scrollIntoView({ block: "end" });
  }
}

function choose(choice) {
  if (state.busy) return;
  addUserMessage("Chose " + choice);
  runTurn("/api/threads/" + encodeURIComponent(state.thread) + "/resume", { choice });
}

async function ask(question) {
  if (!state.thread) await newThread();
  addUserMessage(question);
  await runTurn("/api/threads/" + encodeURIComponent(state.thread) + "/ask", { question });
}

// -- threads -----------------------------------------------------------------------------------------
function setThread(id, clear) {
  state.thread = id;
  if (location.hash !== "#thread=" + id) history.replaceState(null, "", "#thread=" + encodeURIComponent(id));
  if (clear) $("log").replaceChildren();
  for (const button of document.querySelectorAll("#thread-list button")) {
    button.setAttribute("aria-current", button.dataset.thread === id ? "true" : "false");
  }
}

async function newThread() {
  const response = await fetch("/api/threads", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  const data = await response.json();
  setThread(data.id, true);
  $("question").focus();
}

async function loadThreads() {
  try {
    const data = await (await fetch("/api/threads")).json();
    const list = $("thread-list");
    list.replaceChildren(...data.threads.map((thread) => {
      const button = el("button", { type: "button", "data-thread": thread.id, text: thread.title,
        "aria-current": thread.id === state.thread ? "true" : "false" });
      button.addEventListener("click", () => openThread(thread.id));
      return el("li", {}, button);
    }));
  } catch (error) { /* the list is a convenience; the chat still works */ }
}

async function openThread(id, focusQuestion = true) {
  setThread(id, true);
  const response = await fetch("/api/threads/" + encodeURIComponent(id));
  if (!response.ok) {
    new AssistantMessage().error({ message: (await response.json()).error || "This thread cannot be opened." });
    return;
  }
  const data = await response.json();
  const turns = data.turns || [];
  turns.forEach((turn, index) => {
    addUserMessage(turn.question);
    const message = new AssistantMessage();
    if (index === turns.length - 1 && data.last) message.answer(data.last);
    else message.answer({ text: turn.answer, sources: [], cards: [] });
  });
  if (data.interrupt) {
    addUserMessage(data.pending_question || "");
    new AssistantMessage().interrupt(data.interrupt, choose);
  } else if (focusQuestion) {
    $("question").focus();
  }
}

async function loadStatus() {
  try {
    const data = await (await fetch("/api/status")).json();
    const line = $("status");
    line.textContent = data.model + " · Resolvers: " + data.resolvers + " · Memory: " + data.memory;
    line.classList.toggle("no-model", !data.has_model);
  } catch (error) {
    $("status").textContent = "The assistant's server cannot be reached.";
  }
}

function threadFromHash() {
  const match = /^#thread=(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

document.addEventListener("DOMContentLoaded", () => {
  $("ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const question = $("question").value.trim();
    if (!question || state.busy) return;
    $("question").value = "";
    ask(question);
  });
  $("question").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("ask-form").requestSubmit();
    }
  });
  $("new-thread").addEventListener("click", () => newThread());
  loadStatus();
  const saved = threadFromHash();
  // No focus on load: a screen reader starts at the top; the skip link leads to the question.
  if (saved) openThread(saved, false).then(loadThreads); else loadThreads();
});
