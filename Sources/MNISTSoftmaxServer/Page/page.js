"use strict";
const $ = (id) => document.getElementById(id);
const pad = $("pad"), pen = pad.getContext("2d");
let model = null;          // GET /api/model
let answer = null;         // the last POST /api/predict answer
let chosen = null;         // the class the user clicked, or null to follow the top class
let hasInk = false, drawing = false, last = null;
let inFlight = false, again = false, generation = 0;

let colorMap = null;       // GET /api/colormap: the library's DivergingColorMap, tabulated

// DivergingColorMap.color(for:) looked up in the server's table: blue at −1, white at 0, red at
// +1, entry round(255 (t + 1)) of 511; NaN is white.
function divergingColor(t) {
  const middle = (colorMap.diverging.length - 1) / 2;
  if (Number.isNaN(t)) return colorMap.diverging[middle];
  const clamped = Math.min(Math.max(t, -1), 1);
  return colorMap.diverging[Math.round(middle * (clamped + 1))];
}

// values: 784 numbers, row-major; divisor: the value shown as full red or blue.
function paintMap(canvas, values, divisor) {
  const context = canvas.getContext("2d"), image = context.createImageData(28, 28);
  for (let j = 0; j < 784; j++) {
    const [r, g, b] = divergingColor(divisor > 0 ? values[j] / divisor : 0);
    image.data.set([r, g, b, 255], 4 * j);
  }
  context.putImageData(image, 0, 0);
}

function format(value, digits = 2) {
  return (value < 0 ? "−" : "") + Math.abs(value).toFixed(digits);
}

function resetPad() {
  pen.fillStyle = "#fff";
  pen.fillRect(0, 0, pad.width, pad.height);
  hasInk = false;
  $("hint").hidden = false;
}

function point(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * pad.width / box.width, (event.clientY - box.top) * pad.height / box.height];
}

// A zero-length line draws nothing, so a press alone paints a disc of the pen's width.
function dot(at) {
  pen.fillStyle = "#111";
  pen.beginPath();
  pen.arc(at[0], at[1], 10, 0, 2 * Math.PI);
  pen.fill();
  hasInk = true;
  $("hint").hidden = true;
}

function stroke(from, to) {
  pen.strokeStyle = "#111";
  pen.lineWidth = 20;
  pen.lineCap = "round";
  pen.lineJoin = "round";
  pen.beginPath();
  pen.moveTo(from[0], from[1]);
  pen.lineTo(to[0], to[1]);
  pen.stroke();
  hasInk = true;
  $("hint").hidden = true;
}

pad.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  drawing = true;
  last = point(event);
  dot(last);
  requestPrediction();
});
pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  const next = point(event);
  stroke(last, next);
  last = next;
  requestPrediction();
});
for (const type of ["pointerup", "pointercancel"]) {
  pad.addEventListener(type, () => {
    if (!drawing) return;
    drawing = false;
    requestPrediction();
  });
}

// One request in flight; drawing meanwhile marks the canvas for one more when it returns.
function requestPrediction() {
  if (!hasInk) return;
  if (inFlight) { again = true; return; }
  inFlight = true;
  document.body.dataset.state = "busy";
  pad.toBlob((blob) => send(blob), "image/png");
}

function send(body) {
  const sent = generation;
  fetch("/api/predict", { method: "POST", headers: { "Content-Type": "image/png" }, body })
    .then((response) => response.json().then((json) => ({ ok: response.ok, json })))
    .then(({ ok, json }) => {
      if (sent !== generation) return;
      if (ok) { $("status").textContent = ""; show(json); }
      else { $("status").textContent = json.error || "the server refused the image"; }
    })
    .catch((error) => { $("status").textContent = "no answer from the server: " + error.message; })
    .finally(() => {
      inFlight = false;
      if (again) { again = false; requestPrediction(); }
      else { document.body.dataset.state = "idle"; }
    });
}

function show(json) {
  answer = json;
  const top = json.top[0].label;
  $("top-label").textContent = String(top);
  $("top-prob").textContent = (100 * json.top[0].probability).toFixed(1) + "% sure" +
    (json.top[1] ? " · then " + json.top[1].label + " (" + (100 * json.top[1].probability).toFixed(1) + "%)" : "");
  const preview = $("preview").getContext("2d"), image = preview.createImageData(28, 28);
  json.preprocessed.flat().forEach((v, j) => image.data.set([v, v, v, 255], 4 * j));
  preview.putImageData(image, 0, 0);
  renderBars();
  renderHighlights();
  renderEvidence();
}

function renderBars() {
  const bars = $("bars");
  bars.replaceChildren();
  const top = answer ? answer.top[0].label : -1;
  for (let k = 0; k < 10; k++) {
    const p = answer ? answer.probabilities[k] : 0;
    const row = document.createElement("div");
    row.className = "bar" + (k === top ? " top" : "") + (k === chosen ? " selected" : "");
    row.innerHTML = `<span>${k}</span><div class="track"><div class="fill"></div></div>` +
      `<span class="pct">${answer ? (100 * p).toFixed(1) + "%" : ""}</span><span class="logit">${answer ? format(answer.logits[k]) : ""}</span>`;
    row.querySelector(".fill").style.width = (100 * p).toFixed(2) + "%";
    row.addEventListener("click", () => choose(k));
    bars.append(row);
  }
}

function renderTemplates() {
  const holder = $("templates");
  holder.replaceChildren();
  const divisor = model.template_scale.limit;
  for (let k = 0; k < 10; k++) {
    const cell = document.createElement("div");
    cell.className = "template";
    cell.id = "template-" + k;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 28;
    paintMap(canvas, model.weights[k], divisor);
    const label = document.createElement("div");
    label.textContent = String(k);
    cell.append(canvas, label);
    cell.addEventListener("click", () => choose(k));
    holder.append(cell);
  }
}

function renderHighlights() {
  const top = answer ? answer.top[0].label : -1;
  for (let k = 0; k < 10; k++) {
    const cell = $("template-" + k);
    if (!cell) continue;
    cell.classList.toggle("top", k === top);
    cell.classList.toggle("selected", k === chosen);
  }
}

function choose(k) {
  chosen = chosen === k ? null : k;
  renderBars();
  renderHighlights();
  renderEvidence();
}

function renderEvidence() {
  const canvas = $("evidence");
  if (!answer || !model) {
    canvas.getContext("2d").clearRect(0, 0, 28, 28);
    $("evidence-title").textContent = "Draw a digit to see which pixels count for it.";
    $("evidence-terms").replaceChildren();
    $("follow").hidden = true;
    return;
  }
  const x = answer.preprocessed.flat().map((v) => v / 255);
  const evidence = model.weights.map((row) => row.map((w, j) => w * x[j]));
  const divisor = Math.max(...evidence.map((row) => Math.max(...row.map(Math.abs))));
  const k = chosen ?? answer.top[0].label;
  paintMap(canvas, evidence[k], divisor);
  $("tick-low").textContent = format(-divisor, 3);
  $("tick-high").textContent = "+" + format(divisor, 3);
  let positive = 0, negative = 0;
  for (const e of evidence[k]) { if (e > 0) positive += e; else negative += e; }
  $("evidence-title").textContent = "Class " + k + (chosen === null ? " (the top class)" : "");
  $("evidence-terms").innerHTML =
    `<span class="pos">red pixels</span> add <b>+${format(positive)}</b><br>` +
    `<span class="neg">blue pixels</span> add <b>${format(negative)}</b><br>` +
    `bias b<sub>${k}</sub> <b>${format(model.bias[k])}</b><br>` +
    `logit z<sub>${k}</sub> = <b>${format(answer.logits[k])}</b>, p = ${(100 * answer.probabilities[k]).toFixed(1)}%`;
  $("follow").hidden = chosen === null;
}

function clearAll() {
  generation += 1;
  resetPad();
  answer = null;
  chosen = null;
  $("top-label").textContent = "–";
  $("top-prob").textContent = "draw a digit";
  $("status").textContent = "";
  $("preview").getContext("2d").clearRect(0, 0, 28, 28);
  renderBars();
  renderHighlights();
  renderEvidence();
}

// A PNG of the user's: sent as it is (the answer is predict's for that file), and shown on the pad.
function openFile(file) {
  if (!file) return;
  clearAll();
  const url = URL.createObjectURL(file);
  const picture = new Image();
  picture.onload = () => {
    const scale = Math.min(pad.width / picture.width, pad.height / picture.height);
    const w = picture.width * scale, h = picture.height * scale;
    pen.drawImage(picture, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
    URL.revokeObjectURL(url);
    hasInk = true;
    $("hint").hidden = true;
  };
  picture.onerror = () => URL.revokeObjectURL(url);
  picture.src = url;
  inFlight = true;
  document.body.dataset.state = "busy";
  send(file);
}

$("clear").addEventListener("click", clearAll);
$("follow").addEventListener("click", () => choose(chosen));
$("file").addEventListener("change", (event) => { openFile(event.target.files[0]); event.target.value = ""; });
const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  openFile(event.dataTransfer.files[0]);
});

resetPad();
renderBars();
// Shows `json` (an /api/model answer) as the model the draw view uses, and asks again for the
// drawing on the pad, if any, so that the answer is the new model's.
function adoptModel(json) {
  model = json;
  const m = json.metadata, parts = [];
  if (m.test_accuracy) parts.push("test accuracy " + (100 * Number(m.test_accuracy)).toFixed(2) + "%");
  if (m.optimizer) parts.push(m.optimizer + (m.epochs_run ? ", " + m.epochs_run + " epochs" : ""));
  if (m.loss && m.loss !== "softmax-ce") parts.push("cost: " + m.loss);
  parts.push("preprocessing: " + json.preprocessing);
  $("model-info").textContent = json.path.split("/").pop() + " · " + parts.join(" · ");
  renderTemplates();
  renderHighlights();
  renderEvidence();
  generation += 1;
  if (hasInk) requestPrediction();
}

Promise.all(["/api/model", "/api/colormap"].map((path) => fetch(path).then((response) => response.json())))
.then(([json, colors]) => {
  colorMap = colors;
  adoptModel(json);
}).catch((error) => { $("model-info").textContent = "could not load the model: " + error.message; });
