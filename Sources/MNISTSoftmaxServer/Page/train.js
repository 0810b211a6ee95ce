"use strict";
// The Train view: starts a job (POST /api/train or /api/race), follows its Server-Sent Events
// (GET /api/train/events: `frame`, then `done`, `diverged`, `stopped` or `failed`), draws the
// curves and the templates the server coloured, and hands a trained model to the draw view
// (POST /api/train/use). docs/serve.md describes the API and the stream.

const COST_COLOURS = { "softmax-ce": "#d92d20", "sigmoid-bce": "#7a5af8", "mse": "#0e9384" };
const trainView = {
  job: null,        // the 202 answer of the job being shown
  runs: {},         // cost → { points, latest, templates canvas, numbers element, batchesPerEpoch, result }
  source: null,     // the EventSource, while the job streams
  ending: null,     // the final event's data
};

function numberSetting(id) {
  const text = $(id).value.trim();
  return text === "" ? undefined : Number(text);
}

// The settings as POST /api/train takes them; the page's defaults are `train`'s.
function trainSettings(racing) {
  const settings = {
    learning_rate: numberSetting("train-learning-rate"),
    momentum: numberSetting("train-momentum"),
    batch_size: numberSetting("train-batch-size"),
    l2: numberSetting("train-l2"),
    epochs: numberSetting("train-epochs"),
    seed: numberSetting("train-seed"),
    deskew: $("train-deskew").checked,
  };
  if (!racing) settings.loss = $("train-loss").value;
  if ($("train-slow").checked) settings.batches_per_second = numberSetting("train-pace");
  return settings;
}

function setTraining(running) {
  $("train-start").disabled = running;
  $("train-race").disabled = running;
  $("train-stop").disabled = !running;
  document.getElementById("train").dataset.state = running ? "running" : "idle";
}

function startTraining(racing) {
  $("train-status").className = "";
  $("train-status").textContent = "starting…";
  setTraining(true);
  fetch(racing ? "/api/race" : "/api/train", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(trainSettings(racing)),
  })
    .then((response) => response.json().then((json) => ({ ok: response.ok, json })))
    .then(({ ok, json }) => {
      if (!ok) {
        $("train-status").textContent = json.error || "the server refused the settings";
        setTraining(false);
        return;
      }
      follow(json);
    })
    .catch((error) => {
      $("train-status").textContent = "no answer from the server: " + error.message;
      setTraining(false);
    });
}

function runRow(cost) {
  const row = document.createElement("div");
  row.className = "run";
  row.id = "run-" + cost;
  const name = document.createElement("div");
  name.className = "name";
  name.innerHTML = `<i style="background:${COST_COLOURS[cost]}"></i>${cost}<div class="numbers"></div>`;
  const canvas = document.createElement("canvas");
  canvas.id = "templates-" + cost;
  canvas.width = 280;
  canvas.height = 28;
  canvas.setAttribute("aria-label", "the ten templates of " + cost);
  row.append(name, canvas);
  return { row, numbers: name.querySelector(".numbers"), canvas };
}

// Shows the job `started` (the 202 answer) and follows its events.
function follow(started) {
  if (trainView.source) trainView.source.close();
  trainView.job = started;
  trainView.ending = null;
  trainView.runs = {};
  const holder = $("runs");
  holder.replaceChildren();
  for (const cost of started.costs) {
    const { row, numbers, canvas } = runRow(cost);
    holder.append(row);
    trainView.runs[cost] = { points: [], latest: null, numbers, canvas, batchesPerEpoch: 0, result: null, frames: 0 };
  }
  $("use-cost").replaceChildren();
  $("use-cost").disabled = true;
  $("use-cost").hidden = true;
  $("use-model").disabled = true;
  $("download-model").hidden = true;
  drawCharts();
  $("train-status").textContent = "job " + started.job + ": reading the data and starting…";
  const source = new EventSource(started.events);
  trainView.source = source;
  source.addEventListener("frame", (event) => showFrame(JSON.parse(event.data)));
  for (const name of ["done", "diverged", "stopped", "failed"]) {
    source.addEventListener(name, (event) => finish(name, JSON.parse(event.data)));
  }
  source.onerror = () => {
    // The server closes the stream after the final event; anything else is a lost connection.
    if (trainView.ending) return;
    source.close();
    trainView.source = null;
    $("train-status").textContent = "the event stream was lost; the job may still be running on the server";
    setTraining(false);
  };
}

function showFrame(frame) {
  if (!trainView.job || frame.job !== trainView.job.job) return;
  for (const update of frame.runs) {
    const run = trainView.runs[update.cost];
    if (!run) continue;
    run.batchesPerEpoch = update.batches_per_epoch;
    const last = run.points.length ? run.points[run.points.length - 1].samples : -1;
    for (const point of update.points) if (point.samples > last) run.points.push(point);
    if (update.latest) run.latest = update.latest;
    if (update.templates) {
      paintTemplates(run.canvas, update.templates);
      run.frames += 1;
    }
    showNumbers(run);
  }
  drawCharts();
  $("train-status").textContent = positionText(frame.epoch, frame.batch);
}

// "epoch 1 of 10, batch 120 of 600 · test accuracy softmax-ce 88.1%, mse 71.0%"
function positionText(epoch, batch) {
  const runs = Object.entries(trainView.runs);
  const perEpoch = runs.length ? runs[0][1].batchesPerEpoch : 0;
  const epochs = trainView.job.epochs;
  const accuracy = runs.filter(([, run]) => run.latest)
    .map(([cost, run]) => cost + " " + (100 * run.latest.accuracy).toFixed(2) + "%").join(", ");
  return `epoch ${epoch} of ${epochs}, batch ${batch} of ${perEpoch}` + (accuracy ? " · test accuracy " + accuracy : "");
}

function showNumbers(run) {
  const p = run.latest;
  if (!p) return;
  run.numbers.innerHTML = `epoch ${p.epoch} · batch ${p.batch}<br>loss ${p.loss.toFixed(4)}<br>` +
    `test ${(100 * p.accuracy).toFixed(2)}%<br>|∂L/∂z<sub>y</sub>| wrong ${p.wrong_gradient.toFixed(3)}`;
}

// base64 of 10 × 28 × 28 RGB, coloured by the server with the library's map: ten tiles in a row.
function paintTemplates(canvas, base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const context = canvas.getContext("2d"), image = context.createImageData(280, 28);
  for (let k = 0; k < 10; k++) {
    for (let row = 0; row < 28; row++) {
      for (let column = 0; column < 28; column++) {
        const from = 3 * (784 * k + 28 * row + column), to = 4 * (280 * row + 28 * k + column);
        image.data[to] = bytes[from];
        image.data[to + 1] = bytes[from + 1];
        image.data[to + 2] = bytes[from + 2];
        image.data[to + 3] = 255;
      }
    }
  }
  context.putImageData(image, 0, 0);
}

function finish(name, ending) {
  if (!trainView.job || ending.job !== trainView.job.job) return;
  trainView.ending = { name, ...ending };
  if (trainView.source) trainView.source.close();
  trainView.source = null;
  setTraining(false);
  const finished = ending.runs.filter((run) => run.outcome === "done");
  for (const result of ending.runs) {
    const run = trainView.runs[result.cost];
    if (run) run.result = result;
  }
  const status = $("train-status");
  if (name === "diverged") {
    status.className = "diverged";
    status.textContent = "diverged: " + ending.message;
  } else if (name === "done") {
    status.className = "";
    const scores = finished.map((run) => run.cost + " " + (100 * run.test_accuracy).toFixed(2) + "%").join(", ");
    const epochs = Math.max(...finished.map((run) => run.epochs_run));
    status.textContent = `done: epoch ${epochs} of ${epochs} in ${ending.seconds.toFixed(1)} s · test accuracy ${scores}`;
    const diverged = ending.runs.filter((run) => run.outcome === "diverged");
    if (diverged.length) {
      status.className = "diverged";
      status.textContent += "\n" + diverged.map((run) => run.cost + " diverged: " + run.message).join("\n");
    }
  } else {
    status.className = name === "failed" ? "diverged" : "";
    status.textContent = name + ": " + ending.message;
  }
  const choice = $("use-cost");
  choice.replaceChildren(...finished.map((run) => new Option(run.cost, run.cost)));
  choice.disabled = finished.length < 2;
  choice.hidden = finished.length < 2;
  $("use-model").disabled = finished.length === 0;
  updateDownload();
}

function chosenResult() {
  if (!trainView.ending) return null;
  return trainView.ending.runs.find((run) => run.cost === $("use-cost").value && run.outcome === "done") || null;
}

function updateDownload() {
  const result = chosenResult(), link = $("download-model");
  link.hidden = !result;
  if (result) {
    link.href = result.model;
    link.download = `mnist-softmax-job${trainView.job.job}-${result.cost}.safetensors`;
  }
}

function useModel() {
  const result = chosenResult();
  if (!result) return;
  const query = trainView.job.kind === "race" ? "?loss=" + encodeURIComponent(result.cost) : "";
  fetch("/api/train/use" + query, { method: "POST" })
    .then((response) => response.json().then((json) => ({ ok: response.ok, json })))
    .then(({ ok, json }) => {
      if (!ok) { $("train-status").textContent = json.error || "the server refused"; return; }
      adoptModel(json);
      $("train-status").textContent = "the draw view now predicts with the " + result.cost + " model of job " + trainView.job.job;
    })
    .catch((error) => { $("train-status").textContent = "no answer from the server: " + error.message; });
}

// --- charts: x is epochs (samples seen / N), one line per cost -----------------------------

function drawChart(canvas, value, { logarithmic = false, percent = false, fixed = null } = {}) {
  // Drawn at the size the canvas is shown, in device pixels, so that its text stays sharp.
  const scale = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 300, height = Math.round(width * 0.55);
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const context = canvas.getContext("2d");
  context.setTransform(scale, 0, 0, scale, 0, 0);
  const left = 46, right = 10, top = 8, bottom = 22;
  context.font = "11px system-ui, sans-serif";
  const runs = Object.entries(trainView.runs).filter(([, run]) => run.points.length);
  // x: epochs trained, up to where the furthest run is (at least 1/20 of an epoch), so that the
  // first epoch fills the chart in the slowed-down mode, and the whole run at the end.
  const position = (run, point) => point.epoch - 1 + point.batch / run.batchesPerEpoch;
  const epochs = Math.max(0.05, ...runs.map(([, run]) => position(run, run.points[run.points.length - 1])));
  let values = runs.flatMap(([, run]) => run.points.map(value)).filter((v) => Number.isFinite(v) && (!logarithmic || v > 0));
  let low = fixed ? fixed[0] : Math.min(...values), high = fixed ? fixed[1] : Math.max(...values);
  if (!values.length) { low = fixed ? fixed[0] : 0; high = fixed ? fixed[1] : 1; }
  if (!fixed && percent) { low = Math.max(0, Math.floor(low * 20) / 20); high = 1; }
  if (logarithmic) { low = Math.log10(low); high = Math.log10(high); }
  if (high - low < 1e-9) { high = low + 1; }
  const x = (epoch) => left + (width - left - right) * epoch / epochs;
  const y = (v) => top + (height - top - bottom) * (1 - ((logarithmic ? Math.log10(v) : v) - low) / (high - low));
  context.strokeStyle = "#e4e7ec";
  context.fillStyle = "#667085";
  context.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const level = low + (high - low) * i / 4, py = top + (height - top - bottom) * (1 - i / 4);
    context.beginPath(); context.moveTo(left, py); context.lineTo(width - right, py); context.stroke();
    const shown = logarithmic ? Math.pow(10, level) : level;
    context.fillText(percent ? (100 * shown).toFixed(1) + "%" : shown.toPrecision(2), 4, py + 4);
  }
  for (let i = 0; i <= 4; i++) {
    const e = epochs * i / 4, label = String(Number(e.toFixed(e < 2 ? 2 : 1)));
    context.fillText(label, Math.min(x(e) - 3, width - right - 6 * label.length), height - 6);
  }
  for (const [cost, run] of runs) {
    context.strokeStyle = COST_COLOURS[cost];
    context.lineWidth = 2;
    context.beginPath();
    let started = false;
    for (const point of run.points) {
      const v = value(point);
      if (!Number.isFinite(v) || (logarithmic && v <= 0)) continue;
      const px = x(position(run, point)), py = y(v);
      if (started) context.lineTo(px, py); else { context.moveTo(px, py); started = true; }
    }
    context.stroke();
  }
}

function drawCharts() {
  drawChart($("chart-accuracy"), (p) => p.accuracy, { percent: true });
  drawChart($("chart-loss"), (p) => p.loss, { logarithmic: true });
  drawChart($("chart-gradient"), (p) => p.wrong_gradient, { fixed: [0, 1] });
}

$("train-start").addEventListener("click", () => startTraining(false));
$("train-race").addEventListener("click", () => startTraining(true));
$("train-stop").addEventListener("click", () => {
  fetch("/api/train", { method: "DELETE" }).catch(() => {});
});
$("use-model").addEventListener("click", useModel);
$("use-cost").addEventListener("change", updateDownload);
window.addEventListener("resize", drawCharts);
drawCharts();
// The fields start as `train`'s defaults, from the server.
fetch("/api/train/defaults").then((response) => response.json()).then((defaults) => {
  $("train-loss").value = defaults.loss;
  for (const key of ["learning_rate", "momentum", "batch_size", "l2", "epochs", "seed"]) {
    $("train-" + key.replaceAll("_", "-")).value = String(defaults[key]);
  }
  $("train-deskew").checked = defaults.deskew;
}).catch(() => {});
