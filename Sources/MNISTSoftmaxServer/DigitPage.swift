/// The single page that `serve` answers GET / with: HTML, CSS and JavaScript in one string compiled
/// into the binary, so the page needs nothing from the network.
///
/// It draws with Pointer Events (mouse, touch and pen alike) onto a 280 × 280 canvas, dark ink on
/// white, and posts the canvas as a PNG to /api/predict while the user draws (one request in flight
/// at a time; the newest drawing is sent when it returns), so the answer is exactly what `predict`
/// gives for that PNG. Templates and evidence maps are coloured with `divergingColor`, a copy of
/// `DivergingColorMap.color(for:)`: templates divided by /api/model's `template_scale.limit`, the
/// 99.5th percentile of |W| over all classes (the `export-weights` command's default scaling, weights
/// beyond it at full colour), evidence maps W_k ⊙ x by max |W_j ⊙ x| over all classes j of the
/// current image, so that shades compare across classes.
public enum DigitPage {
    public static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mnist-softmax · draw a digit</title>
<link rel="icon" href="data:,">
<style>
  :root {
    --ink: #1d2330; --muted: #667085; --line: #e4e7ec; --card: #ffffff; --page: #f4f5f8;
    --accent: #d92d20; --accent-soft: #fdecea; --blue: #1d4ed8; --bar: #98a2b3;
    font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
    color: var(--ink); background: var(--page);
  }
  * { box-sizing: border-box; }
  body { margin: 0; padding: 16px; }
  header { max-width: 980px; margin: 0 auto 14px; display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px; }
  h1 { font-size: 1.35rem; margin: 0; letter-spacing: -0.01em; }
  h1 span { color: var(--muted); font-weight: 500; }
  #model-info { color: var(--muted); font-size: 0.9rem; }
  main { max-width: 980px; margin: 0 auto; display: grid; gap: 14px;
         grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 14px 16px; min-width: 0; }
  h2 { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin: 0 0 10px; font-weight: 600; }
  .explain { color: var(--muted); font-size: 0.85rem; margin: 8px 0 0; line-height: 1.4; }
  #drop { position: relative; width: 100%; max-width: 320px; margin: 0 auto; border-radius: 10px;
          outline: 2px dashed transparent; outline-offset: 4px; }
  #drop.over { outline-color: var(--blue); }
  #pad { display: block; width: 100%; aspect-ratio: 1; border: 1px solid #d0d5dd; border-radius: 10px;
         background: #fff; touch-action: none; cursor: crosshair; }
  #hint { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; text-align: center;
          color: #98a2b3; pointer-events: none; font-size: 0.95rem; padding: 30px; }
  #hint[hidden] { display: none; }
  .tools { display: flex; gap: 8px; justify-content: center; margin-top: 12px; flex-wrap: wrap; }
  button, .file { font: inherit; font-size: 0.9rem; padding: 7px 14px; border-radius: 8px; border: 1px solid #d0d5dd;
                  background: #fff; color: var(--ink); cursor: pointer; }
  button:hover, .file:hover { background: #f9fafb; }
  .file input { display: none; }
  #status { min-height: 1.3em; color: var(--accent); font-size: 0.85rem; text-align: center; margin: 8px 0 0; }
  .answer { display: flex; gap: 16px; align-items: center; }
  .seen { text-align: center; }
  #preview { width: 112px; height: 112px; image-rendering: pixelated; background: #000; border-radius: 6px; display: block; }
  .caption { font-size: 0.75rem; color: var(--muted); margin-top: 4px; }
  .verdict { flex: 1; }
  #top-label { font-size: 4.2rem; font-weight: 700; line-height: 1; font-variant-numeric: tabular-nums; }
  #top-prob { color: var(--muted); font-size: 0.95rem; margin-top: 4px; }
  #bars { margin-top: 12px; display: grid; gap: 3px; }
  .bar { display: grid; grid-template-columns: 1.2em 1fr 4.2em 4.4em; align-items: center; gap: 8px; font-size: 0.85rem;
         font-variant-numeric: tabular-nums; cursor: pointer; border-radius: 4px; padding: 1px 2px; }
  .bar:hover { background: #f2f4f7; }
  .bar .track { height: 12px; background: #f2f4f7; border-radius: 3px; overflow: hidden; }
  .bar .fill { height: 100%; width: 0; background: var(--bar); transition: width 0.12s; }
  .bar.top .fill { background: var(--accent); }
  .bar.top { font-weight: 700; }
  .bar .pct { text-align: right; }
  .bar .logit { text-align: right; color: var(--muted); }
  .bar.selected { outline: 1.5px solid var(--ink); }
  #templates { display: grid; grid-template-columns: repeat(5, 1fr); gap: 8px; }
  .template { text-align: center; cursor: pointer; border-radius: 8px; padding: 4px; border: 2px solid transparent; }
  .template canvas { width: 100%; image-rendering: pixelated; display: block; border-radius: 3px; }
  .template div { font-size: 0.8rem; margin-top: 2px; font-variant-numeric: tabular-nums; }
  .template.top { border-color: var(--accent); background: var(--accent-soft); }
  .template.top div { font-weight: 700; color: var(--accent); }
  .template.selected { box-shadow: 0 0 0 2px var(--ink); }
  .evidence { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; }
  #evidence { width: 196px; height: 196px; image-rendering: pixelated; border: 1px solid var(--line); border-radius: 6px; display: block; }
  #sum { font-size: 0.9rem; line-height: 1.6; font-variant-numeric: tabular-nums; flex: 1; min-width: 150px; }
  #sum b { font-size: 1.05rem; }
  #evidence-title { font-weight: 600; margin-bottom: 4px; }
  .legend { margin-top: 8px; width: 196px; }
  .legend .ramp { height: 10px; border-radius: 3px; background: linear-gradient(to right, #0000ff, #ffffff, #ff0000); border: 1px solid var(--line); }
  .legend .ticks { display: flex; justify-content: space-between; font-size: 0.72rem; color: var(--muted); font-variant-numeric: tabular-nums; }
  #follow { font-size: 0.8rem; padding: 3px 10px; margin-top: 6px; }
  .pos { color: #b42318; } .neg { color: var(--blue); }
  @media (max-width: 420px) {
    body { padding: 10px; }
    #top-label { font-size: 3.4rem; }
    #preview { width: 84px; height: 84px; }
  }
</style>
</head>
<body data-state="idle">
<header>
  <h1>mnist-softmax <span>· draw a digit</span></h1>
  <div id="model-info">loading the model…</div>
</header>
<main>
  <section>
    <h2>Draw</h2>
    <div id="drop">
      <canvas id="pad" width="280" height="280" aria-label="drawing canvas"></canvas>
      <div id="hint">Draw a digit here with the mouse or a finger,<br>or drop a PNG</div>
    </div>
    <div class="tools">
      <button id="clear" type="button">Clear</button>
      <label class="file">Open PNG…<input id="file" type="file" accept="image/png"></label>
    </div>
    <p id="status" role="status"></p>
  </section>
  <section>
    <h2>The model's answer</h2>
    <div class="answer">
      <div class="seen">
        <canvas id="preview" width="28" height="28"></canvas>
        <div class="caption">what the model sees<br>(28 × 28)</div>
      </div>
      <div class="verdict">
        <div id="top-label">–</div>
        <div id="top-prob">draw a digit</div>
      </div>
    </div>
    <div id="bars"></div>
    <p class="explain">p = softmax(z); the grey column is the logit z<sub>k</sub>. Click a class to see its evidence.</p>
  </section>
  <section>
    <h2>Weight templates W<sub>k</sub></h2>
    <div id="templates"></div>
    <p class="explain">Row k of W as a 28 × 28 image: <span class="pos">red</span> pixels vote for class k, <span class="neg">blue</span> ones against. One colour scale for all ten, whose ends stand for the 99.5th percentile of |W|.</p>
  </section>
  <section>
    <h2>Evidence W<sub>k</sub> ⊙ x</h2>
    <div class="evidence">
      <div>
        <canvas id="evidence" width="28" height="28"></canvas>
        <div class="legend"><div class="ramp"></div><div class="ticks"><span id="tick-low">−</span><span>0</span><span id="tick-high">+</span></div></div>
      </div>
      <div id="sum">
        <div id="evidence-title">Draw a digit to see which pixels count for it.</div>
        <div id="evidence-terms"></div>
        <button id="follow" type="button" hidden>follow the top class</button>
      </div>
    </div>
    <p class="explain">Each pixel's weight times its ink, x = pixel / 255. The map sums, with the bias, to the class's logit.</p>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const pad = $("pad"), pen = pad.getContext("2d");
let model = null;          // GET /api/model
let answer = null;         // the last POST /api/predict answer
let chosen = null;         // the class the user clicked, or null to follow the top class
let hasInk = false, drawing = false, last = null;
let inFlight = false, again = false, generation = 0;

// DivergingColorMap.color(for:): blue at −1, white at 0, red at +1; NaN is white.
function divergingColor(t) {
  if (Number.isNaN(t)) return [255, 255, 255];
  const clamped = Math.min(Math.max(t, -1), 1);
  const faded = Math.round(255 * (1 - Math.abs(clamped)));
  return clamped < 0 ? [faded, faded, 255] : [255, faded, faded];
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
fetch("/api/model").then((response) => response.json()).then((json) => {
  model = json;
  const m = json.metadata, parts = [];
  if (m.test_accuracy) parts.push("test accuracy " + (100 * Number(m.test_accuracy)).toFixed(2) + "%");
  if (m.optimizer) parts.push(m.optimizer + (m.epochs_run ? ", " + m.epochs_run + " epochs" : ""));
  parts.push("preprocessing: " + json.preprocessing);
  $("model-info").textContent = json.path.split("/").pop() + " · " + parts.join(" · ");
  renderTemplates();
  renderHighlights();
  renderEvidence();
}).catch((error) => { $("model-info").textContent = "could not load the model: " + error.message; });
</script>
</body>
</html>
"""#
}
