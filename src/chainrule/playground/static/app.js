// The playground page: one session per tab, settings in the URL, snapshots streamed from the
// server over server-sent events. Training happens on the server, in chainrule.

import { BLUE, ORANGE, classColor, drawAxes, drawByteMap, drawClassMap, drawCurve, drawLossChart, drawPoints, rgb } from "./draw.js";
import { STAGES, renderStage } from "./explain.js";
import { NetworkView } from "./network.js";

const LR_CHOICES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const RATE_CHOICES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const DROPOUT_CHOICES = [0, 0.1, 0.2, 0.3, 0.4, 0.5];
const DATASET_LABELS = {
  circle: "Circle", xor: "XOR", gauss: "Gaussians", spiral: "Spiral", moons: "Moons",
  linear: "Seed 000", sine: "sin(x)", csv: "Your CSV",
};
const ICONS = {
  play: '<svg viewBox="0 0 16 16" width="18" height="18"><polygon points="4,2 14,8 4,14" fill="currentColor"/></svg>',
  pause: '<svg viewBox="0 0 16 16" width="18" height="18"><rect x="3" y="2" width="3.5" height="12" fill="currentColor"/><rect x="9.5" y="2" width="3.5" height="12" fill="currentColor"/></svg>',
};
const LOSS_LABELS = { bce: "binary cross-entropy", cross_entropy: "cross-entropy", mse: "MSE", hinge: "hinge" };

const $ = (id) => document.getElementById(id);
const app = { events: 0, options: null, sid: null, state: null, changes: [], points: null, dataVersion: -1, trace: null, stage: 0, selected: null, upload: null };
window.playground = app; // for the browser tests and the console

// -- talking to the server ---------------------------------------------------------------------
async function api(method, path, body, raw = false) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    if (raw) { init.body = body; init.headers["Content-Type"] = "text/csv"; }
    else { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  }
  const res = await fetch(path, init);
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) throw new Error((data && data.error) || `the server answered ${res.status}`);
  return data;
}

const session = (suffix) => `/api/sessions/${app.sid}/${suffix}`;

// Settings go to the server one request at a time, in the order they were made: overlapping
// requests could arrive out of order and leave the server on an older value than the control shows.
//
// A change is a function of the settings, ``(config, state) => values`` (null: nothing to change,
// e.g. "+" at 8 neurons), not a set of values read off the last state the server sent: two quick
// presses of "+" (a double click, Enter pressed twice or held) would both read the same width and
// ask for the same one, and only one neuron would be added. A press is checked against the
// settings as they will be once every change made before it is applied (``desired()``), and its
// values are computed when its turn comes, from the state the server answered to the one before.
// A refusal drops the changes made after it (they were made on top of the refused one, and a
// toggle or a step re-read from another state would do something else than was pressed): the page
// shows the server's settings, and the message says how many were not sent.
function send(change, refusedNote = "") {
  const fn = typeof change === "function" ? change : () => change;
  if (!app.state || !fn(desired(), view(desired()))) return Promise.resolve(false);
  const item = { fn, values: null, refusedNote };
  app.changes.push(item);
  showPending();
  const run = () => sendNow(item);
  app.queue = (app.queue || Promise.resolve()).then(run, run);
  return app.queue;
}

async function sendNow(item) {
  if (!app.changes.includes(item)) return false;  // dropped after a refusal
  item.values = item.fn(app.state.config, app.state);
  if (!item.values) { settle(item); return false; }  // nothing left to change
  try {
    const state = await api("PUT", session("config"), item.values);
    hideMessage("error");
    // the new state first, then the change is done: the other way round the changes still waiting
    // would for a moment be read off the old state (a "−" could be disabled and lose the focus)
    applyState(state, true);
    settle(item);
    return true;
  } catch (e) {
    const dropped = app.changes.length - 1;
    app.changes = [];
    const notSent = dropped === 0 ? "" : dropped === 1 ? "The change made after it was not sent."
      : `The ${dropped} changes made after it were not sent.`;
    const text = [e.message.replace(/\.$/, "") + ".", item.refusedNote, notSent].filter(Boolean).join(" ");
    showMessage(item.refusedNote || notSent ? text : e.message);
    restoreControls();
    return false;
  }
}

function settle(item) {
  app.changes = app.changes.filter((x) => x !== item);
  showPending();
}

// The settings as they will be once every change made on the page is applied: the server's, then
// the values of the request on its way (as sent), then each change still waiting, in order.
function desired() {
  if (!app.state) return null;
  let c = app.state.config;
  for (const item of app.changes) {
    const values = item.values || item.fn(c, view(c));
    if (values) c = { ...c, ...values };
  }
  return c;
}

// A state as the changes read it, for settings not yet in force (the server's, but for them).
function view(c) {
  return c === app.state.config ? app.state : { ...app.state, config: c, dims: c.dataset === "sine" ? 1 : 2 };
}

// The controls show the settings asked for at once (a layer's "+" is disabled as soon as the
// presses made reach 8 neurons); the diagram is redrawn when the server answers.
function showPending() {
  if (!app.state) return;
  const c = desired();
  renderControls(c);
  app.network.showSettings(c, app.options);
}

// After a refusal every control shows the setting the server keeps, not what was tried.
function restoreControls() {
  if (!app.state) return;
  const c = desired();  // the server's, once a refusal has dropped what was waiting
  renderControls(c, true);
  app.network.showSettings(c, app.options);
}

async function act(name) {
  try {
    applyState(await api("POST", session(name)), true);
    hideMessage("error");
  } catch (e) { showMessage(e.message); restoreControls(); }
}

// -- messages -------------------------------------------------------------------------------
let messageTimer = null;
function showMessage(text, kind = "error") {
  const box = $("message");
  box.textContent = text;
  box.className = `message ${kind === "info" ? "info" : ""}`;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(messageTimer);
  if (kind === "info") messageTimer = setTimeout(() => hideMessage("info"), 4000);
}
function hideMessage(kind) {
  const box = $("message");
  if (!kind || box.dataset.kind === kind) box.hidden = true;
}

// -- controls ---------------------------------------------------------------------------------
// Call after disabling controls: if ``was`` (the element that had the focus before) is one of
// ``group`` and is now disabled, the focus goes to the first enabled control of ``fallbacks``.
// A disabled control cannot keep the focus: Chromium gives it to <body>, and the next Tab would
// start again at the top of the page. The control handed the focus ignores the rest of the press
// that disabled the other (see keyGuard in network.js).
function refocus(was, group, fallbacks) {
  if (!group.includes(was) || !was.disabled) return;
  const to = fallbacks.find((el) => el && !el.disabled);
  if (to) { to.focus(); app.network.keys.handOver(to); }
}

function fillSelect(select, values, label = (v) => String(v)) {
  select.innerHTML = "";
  for (const v of values) select.add(new Option(label(v), String(v)));
}

function setupControls() {
  const o = app.options;
  fillSelect($("lr"), LR_CHOICES);
  fillSelect($("rate"), RATE_CHOICES);
  fillSelect($("dropout"), DROPOUT_CHOICES);
  fillSelect($("opt"), o.optimizers);
  fillSelect($("loss"), o.losses, (v) => LOSS_LABELS[v] || v);
  fillSelect($("reg"), o.regularizations);
  for (const [id, key] of [["ratio", "ratio"], ["noise", "noise"], ["points", "points"], ["classes", "classes"]]) {
    $(id).min = o[key][0]; $(id).max = o[key][1];
    $(id).addEventListener("input", () => { $(`${id}-value`).textContent = $(id).value; });
  }
  $("batch").min = o.batch[0]; $("batch").max = o.batch[1];
  $("seed").min = o.seed[0]; $("seed").max = o.seed[1];
  for (const el of document.querySelectorAll("[data-key]")) {
    el.addEventListener("change", () => {
      // an <input type=number> reads "" when empty or when the browser cannot read it as a
      // number (400 digits, 1e999): say so, rather than send "" and be told "got ''"
      if (el.type === "number" && (el.value.trim() === "" || el.validity.badInput)) {
        const kept = app.state ? desired()[el.dataset.key] : null;
        showMessage(`${fieldLabel(el)}: enter a whole number from ${el.min} to ${el.max} (the field is empty or not a number)`
          + (kept === null ? "." : `; it stays ${kept}.`));
        restoreControls();
        return;
      }
      changeSetting(el.dataset.key, el.value);
    });
  }
  const box = $("datasets");
  for (const name of o.datasets) {
    const b = document.createElement("button");
    b.dataset.dataset = name;
    b.title = name === "csv" ? "Your own CSV file (upload below)" : `Use the ${DATASET_LABELS[name]} dataset`;
    const c = document.createElement("canvas");
    c.width = 44; c.height = 44;
    b.append(c, document.createTextNode(DATASET_LABELS[name] || name));
    b.addEventListener("click", () => chooseDataset(name));
    box.appendChild(b);
  }
  $("play").addEventListener("click", () => act(app.state && app.state.status === "running" ? "pause" : "play"));
  $("step").addEventListener("click", () => act("step"));
  $("reset").addEventListener("click", () => act("reset"));
  $("regenerate").addEventListener("click", () => send({ seed: Math.floor(Math.random() * 1e6) }));
  $("copy-link").addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(location.href); showMessage("Link copied: it reproduces this setup (data, seed, network).", "info"); }
    catch (e) { showMessage(`Copy this address to share the setup: ${location.href}`, "info"); }
  });
  // each press adds (removes) one layer to (from) the layers asked for so far, not to the server's
  $("add-layer").addEventListener("click", () => send((c) => (c.layers.length >= o.max_layers ? null
    : { layers: [...c.layers, c.layers.length ? c.layers[c.layers.length - 1] : 4], act: [...c.act, c.act.length ? c.act[c.act.length - 1] : "tanh"] })));
  $("remove-layer").addEventListener("click", () => send((c) => (c.layers.length ? { layers: c.layers.slice(0, -1), act: c.act.slice(0, -1) } : null)));
  for (const b of [$("add-layer"), $("remove-layer")]) {
    b.addEventListener("keydown", (ev) => { if (app.network.keys.blocks(b, ev)) ev.preventDefault(); });
  }
  $("csv-file").addEventListener("change", uploadFile);
  $("upload-btn").addEventListener("click", () => $("csv-file").click());
  $("problem").addEventListener("change", () => {
    // for the CSV in use: switch now; otherwise it says how to read the next upload
    if (desired().dataset !== "csv") return;
    const kept = desired().problem;
    // a refusal puts the selector back at the way the file is read, and says so: the next
    // upload is read the way the selector shows
    changeSetting("problem", $("problem").value,
      `The file is still read as ${kept}, and the selector is back at ${kept}: the next upload will also be read as ${kept} unless you change it.`);
  });
  for (const id of ["show-test", "discretize"]) {
    $(id).addEventListener("change", () => { drawOutput(); if (app.state) legend(app.state); });
  }
  $("output-canvas").addEventListener("click", pickPoint);
  $("explain-btn").addEventListener("click", () => {
    const field = $("explain-index");
    const text = field.value.trim();  // Number("") would be 0: the first point, unasked
    if (text === "" || field.validity.badInput || !Number.isInteger(Number(text)) || Number(text) < 0) {
      showMessage("Point: enter the number of a point (0, 1, 2, ...), or click a point on the output map.");
      return;
    }
    explain($("explain-split").value, Number(text));
  });
  $("explain-index").addEventListener("keydown", (ev) => { if (ev.key === "Enter") $("explain-btn").click(); });
  $("stage-prev").addEventListener("click", () => showStage(app.stage - 1));
  $("stage-next").addEventListener("click", () => showStage(app.stage + 1));
  const stages = $("stages");
  STAGES.forEach((name, i) => {
    const b = document.createElement("button");
    b.textContent = name; b.disabled = true;
    b.addEventListener("click", () => showStage(i));
    stages.appendChild(b);
  });
  window.addEventListener("pagehide", () => { if (app.sid) navigator.sendBeacon(session("close")); });
}

// The text of the <label for=...> of a control, for messages about it.
function fieldLabel(el) {
  const label = el.id && document.querySelector(`label[for="${el.id}"]`);
  return label ? label.textContent.trim() : el.dataset.key;
}

function changeSetting(key, value, refusedNote = "") {
  send((c, s) => {
    const values = { [key]: value };
    if (key === "classes" && Number(value) > 2 && ["bce", "hinge"].includes(c.loss)) values.loss = "cross_entropy";
    if (key === "problem") values.loss = lossFor(value === "regression" ? "regression" : (app.upload && app.upload.distinct_targets > 2 ? "multiclass" : "binary"), s.task, c.loss);
    return values;
  }, refusedNote);
}

// The loss after a change of task: the current one when it fits the new task, otherwise the
// server's default for that task (leaving regression always takes the default: MSE was only
// there because regression needs it).
function lossFor(task, fromTask, loss) {
  const fits = task === "regression" ? loss === "mse" : task === "multiclass" ? !["bce", "hinge"].includes(loss) : true;
  return fits && !(fromTask === "regression" && task !== "regression") ? loss : app.options.default_loss[task];
}

function chooseDataset(name) {
  if (name === "csv" && !app.upload) { $("csv-file").click(); return; }
  send((c, s) => datasetValues(name, c, s));
}

function datasetValues(name, c, s) {
  const values = { dataset: name };
  let task;
  if (name === "csv") {
    // the uploaded file is read as it was last read, whatever the built-in set in use now is
    values.problem = app.upload.problem;
    task = app.upload.problem === "regression" ? "regression" : app.upload.distinct_targets > 2 ? "multiclass" : "binary";
  } else if (name === "sine") {
    task = "regression";
  } else {
    task = app.options.multiclass_datasets.includes(name) && c.classes > 2 ? "multiclass" : "binary";
  }
  values.loss = lossFor(task, s.task, c.loss);
  if (name === "sine") {
    const f = c.features.filter((x) => app.options.features_1d.includes(x));
    values.features = f.length ? f : ["x1"];
  } else if (s.dims === 1) {
    values.features = c.features.includes("x1") && c.features.length === 1 ? ["x1", "x2"] : [...c.features, "x2"];
  }
  return values;
}

async function uploadFile() {
  const file = $("csv-file").files[0];
  $("csv-file").value = "";
  if (!file) return;
  if (file.size > 1000000) { showMessage(`${file.name} is ${file.size.toLocaleString()} bytes; the limit is 1,000,000 bytes.`); return; }
  try {
    const q = new URLSearchParams({ filename: file.name, problem: $("problem").value });
    const res = await api("POST", `${session("upload")}?${q}`, await file.arrayBuffer(), true);
    app.upload = res.upload;
    hideMessage("error");
    const u = res.upload, s = res.state;
    const read = u.problem === "regression"
      ? `read as regression (the third column is a real target; loss ${LOSS_LABELS[s.config.loss] || s.config.loss})`
      : `read as classification (${s.classes} classes)`;
    const hint = u.problem === "regression" && u.classification_ok
      ? ` Its third column looks like class labels (${u.distinct_targets} values): choose classification beside “Upload CSV…” to read it as classes.` : "";
    showMessage(`Loaded ${u.filename}: ${u.rows} rows, ${read}; features standardised to mean 0, sd 1.${hint}`, "info");
    applyState(res.state, true);
  } catch (e) { showMessage(`Upload refused: ${e.message}`); restoreControls(); }
}

function renderControls(c, force = false) {
  const active = document.activeElement;
  for (const el of document.querySelectorAll("[data-key]")) {
    if (el === active && !force) continue;
    const key = el.dataset.key;
    if (!(key in c)) continue;
    let value = String(c[key]);
    if (el.tagName === "SELECT" && ![...el.options].some((op) => op.value === value)) {
      const match = [...el.options].find((op) => Number(op.value) === Number(value));
      if (match) value = match.value; else el.add(new Option(value, value));
    }
    el.value = value;
    const label = $(`${el.id}-value`);
    if (label) label.textContent = value;
  }
  for (const b of $("datasets").querySelectorAll("button")) b.classList.toggle("active", b.dataset.dataset === c.dataset);
  $("classes").disabled = !app.options.multiclass_datasets.includes(c.dataset);
  $("classes-row").style.opacity = $("classes").disabled ? 0.45 : 1;
  if (c.dataset === "csv") $("problem").value = c.problem;
  $("noise").disabled = c.dataset === "csv";
  $("rate").disabled = c.reg === "none";  // a rate without L1 or L2 would change nothing
  $("rate").title = c.reg === "none" ? "choose L1 or L2 under Regularization to use a rate" : "";
  $("points").disabled = c.dataset === "csv";
  // greyed controls the data set decides: their labels say what the data has, not the setting
  const s = app.state && JSON.stringify(app.state.config) === JSON.stringify(c) ? app.state : null;
  if (s && c.dataset === "csv") $("points-value").textContent = String(s.n_train + s.n_test);
  if (c.dataset === "csv") $("noise-value").textContent = "–";
  if (s && $("classes").disabled) $("classes-value").textContent = s.task === "regression" ? "–" : String(s.classes);
  $("layer-count").textContent = `${c.layers.length} hidden layer${c.layers.length === 1 ? "" : "s"}`;
  const layerButtons = [$("add-layer"), $("remove-layer")];
  $("add-layer").disabled = c.layers.length >= app.options.max_layers;
  $("remove-layer").disabled = c.layers.length === 0;
  refocus(active, layerButtons, layerButtons);  // at six layers "+" hands the focus to "−", at none "−" to "+"
}

function updateUrl(c) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(c)) q.set(k, Array.isArray(v) ? v.join(",") : String(v));
  const url = `${location.pathname}?${q}`;
  if (url !== location.pathname + location.search) history.replaceState(null, "", url);
}

// The settings in the address, and the names in it that are not settings (a typo would
// otherwise be dropped without a word).
function readUrl() {
  const q = new URLSearchParams(location.search);
  const known = Object.keys(app.options.defaults);
  const config = {}, unknown = [];
  for (const [k, v] of q.entries()) (known.includes(k) ? (config[k] = v) : unknown.push(k));
  return { config, unknown };
}

// -- state from the server -----------------------------------------------------------------------
async function applyState(s, authoritative = false) {
  if (app.state && s.id === app.state.id && s.version < app.state.version && !authoritative) return;
  const configChanged = !app.state || JSON.stringify(app.state.config) !== JSON.stringify(s.config);
  app.state = s;
  if (s.config.dataset === "csv" && app.upload) app.upload.problem = s.config.problem;
  if (configChanged) {
    renderControls(desired()); updateUrl(s.config); refreshThumbnails(s.config);
    if (app.trace) clearTrace("The settings changed since this point was explained: explain it again to see a step of the network as it is now.");
  }
  $("epoch").textContent = s.epoch.toLocaleString("en-US");
  const pill = $("status");
  pill.textContent = s.status;
  pill.className = `pill ${s.status}`;
  const running = s.status === "running";
  if ($("play").dataset.running !== String(running)) {
    $("play").dataset.running = String(running);
    $("play").innerHTML = running ? ICONS.pause : ICONS.play;
    $("play").setAttribute("aria-label", running ? "pause" : "play");
  }
  const focused = document.activeElement;
  $("play").disabled = $("step").disabled = s.status === "diverged";
  refocus(focused, [$("play"), $("step")], [$("reset")]);  // diverged: reset is what is left to press
  if (s.status === "diverged" && s.message) showMessage(s.message);
  const f = (v) => {
    if (v === null || v === undefined) return "–";
    const a = Math.abs(v);
    return a !== 0 && (a >= 1e4 || a < 1e-3) ? v.toExponential(2) : v.toFixed(3);
  };
  $("test-loss").textContent = f(s.last.test_loss);
  $("train-loss").textContent = f(s.last.train_loss);
  $("metric-name").textContent = s.metric === "r2" ? "R²" : s.metric;
  $("test-metric").textContent = f(s.last.test_metric);
  $("train-metric").textContent = f(s.last.train_metric);
  drawLossChart($("loss-chart"), s.history);
  app.network.render(s, app.options, desired());
  if (s.data_version !== app.dataVersion) {
    if (app.trace && app.dataVersion !== undefined) clearTrace("The data changed since this point was explained: pick a point of the new data.");
    app.dataVersion = s.data_version;
    app.points = null;
    app.selected = null;
    try { const d = await api("GET", session("data")); if (d.data_version === app.state.data_version) app.points = d; } catch (e) { showMessage(e.message); }
  }
  drawOutput();
  legend(s);
  // a dataset that sets its own classes (a CSV, a two-class set): the label says what the data has
  if ($("classes").disabled) $("classes-value").textContent = s.task === "regression" ? "–" : String(s.classes);
  if (s.config.dataset === "csv") $("points-value").textContent = String(s.n_train + s.n_test);
  markTrace(s);
}

function drawOutput() {
  const s = app.state;
  if (!s) return;
  const canvas = $("output-canvas");
  const o = s.maps.output;
  const discretize = $("discretize").checked;
  if (s.dims === 1) {
    drawCurve(canvas, o.values, { lo: s.extent[2], hi: s.extent[3], width: 2.5 });
  } else if (o.kind === "classes") {
    drawClassMap(canvas, o.label, o.data, s.maps.size, s.classes, discretize);
  } else {
    drawByteMap(canvas, o.data, s.maps.size, { discretize, strength: 0.6 });
  }
  if (app.points) {
    let yRange = [0, 1];
    if (s.task === "regression") {
      const ys = app.points.train.y.concat(app.points.test.y);
      yRange = [Math.min(...ys), Math.max(...ys)];
    }
    const opts = { task: s.task, classes: s.classes, yRange, dims: s.dims };
    drawPoints(canvas, app.points.train, s.extent, opts);
    if ($("show-test").checked) drawPoints(canvas, app.points.test, s.extent, { ...opts, test: true });
    if (app.selected) drawPoints(canvas, { x: [], y: [] }, s.extent, { ...opts, selected: app.selected });
  }
  drawAxes(canvas, s.extent);
  $("axis-note").textContent = s.dims === 1 ? "x → horizontal, y = sin x + noise ↑ (dots: data, line: network)" : "X₁ → horizontal, X₂ ↑ vertical";
}

function legend(s) {
  const box = $("output-legend");
  const showTest = $("show-test").checked, discretize = $("discretize").checked;
  if (s.task === "binary") {
    box.innerHTML = `<span><span class="dot" style="background:${rgb(ORANGE)}"></span>class 0</span>` +
      `<span class="bar" style="background:linear-gradient(90deg, ${rgb(ORANGE)}, #f7f8f9, ${rgb(BLUE)})"></span>` +
      `<span><span class="dot" style="background:${rgb(BLUE)}"></span>class 1</span>`;
  } else if (s.task === "multiclass") {
    box.innerHTML = [...Array(s.classes).keys()].map((k) => `<span><span class="dot" style="background:${rgb(classColor(k))}"></span>class ${k}</span>`).join("")
      + (discretize ? "" : `<span class="hint">paler = less sure</span>`);
  } else if (s.dims === 2) {
    const out = (s.maps && s.maps.output) || {};  // the colour scale's ends, in the target's units
    const end = (v, word) => (typeof v === "number" ? `${word} ${Number(v.toPrecision(3))}` : word);
    box.innerHTML = `<span>${end(out.lo, "low")}</span><span class="bar" style="background:linear-gradient(90deg, ${rgb(ORANGE)}, #f7f8f9, ${rgb(BLUE)})"></span><span>${end(out.hi, "high")}</span>`;
  } else {
    // 1-D: training points are filled dots, test points hollow rings (drawPoints)
    box.innerHTML = `<span><span class="dot" style="background:#3c3c3c"></span>${showTest ? "training data" : "data"}</span>`
      + (showTest ? `<span><span class="dot ring"></span>test data</span>` : "")
      + `<span><span class="line" style="background:${rgb(BLUE)}"></span>network output</span>`;
    return;
  }
  box.innerHTML += `<span class="hint">${showTest ? "white ring: train · dark ring: test" : "white ring: training points"}</span>`;
}

async function refreshThumbnails(c) {
  const generation = app.thumbnails = (app.thumbnails || 0) + 1;  // a later refresh supersedes this one
  for (const b of $("datasets").querySelectorAll("button")) {
    if (generation !== app.thumbnails) return;
    const name = b.dataset.dataset;
    const canvas = b.querySelector("canvas");
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#eef1f4"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (name === "csv") {
      ctx.fillStyle = "#66737f"; ctx.font = "bold 12px system-ui"; ctx.textAlign = "center";
      ctx.fillText(app.upload ? "CSV ✓" : "CSV", 22, 26);
      continue;
    }
    try {
      const q = new URLSearchParams({ dataset: name, noise: c.noise, classes: c.classes, seed: c.seed });
      const d = await api("GET", `/api/preview?${q}`);
      if (generation !== app.thumbnails) return;  // its canvas belongs to the newer refresh now
      const dims = d.dims;
      drawPoints(canvas, d.points, d.extent, { task: d.task, classes: d.classes, yRange: [-1, 1], dims });
    } catch (e) { /* a thumbnail is decoration; the dataset still works */ }
  }
}

// -- picking a point and explaining it ------------------------------------------------------------
function pickPoint(ev) {
  const s = app.state;
  if (!s || !app.points) return;
  const canvas = $("output-canvas");
  const r = canvas.getBoundingClientRect();
  const mx = ((ev.clientX - r.left) / r.width) * canvas.width, my = ((ev.clientY - r.top) / r.height) * canvas.height;
  const [x0, x1, y0, y1] = s.extent;
  let best = null;
  const splits = $("show-test").checked ? ["train", "test"] : ["train"];
  for (const split of splits) {
    const p = app.points[split];
    p.x.forEach((x, i) => {
      const yv = s.dims === 1 ? p.y[i] : x[1];
      const px = ((x[0] - x0) / (x1 - x0)) * canvas.width, py = canvas.height - ((yv - y0) / (y1 - y0)) * canvas.height;
      const d = (px - mx) ** 2 + (py - my) ** 2;
      if (!best || d < best.d) best = { d, split, i };
    });
  }
  if (!best || best.d > 15 * 15) return;
  $("explain-split").value = best.split;
  $("explain-index").value = best.i;
  explain(best.split, best.i);
}

async function explain(split, index) {
  try {
    app.trace = await api("POST", session("explain"), { split, index });
    hideMessage("error");
  } catch (e) { showMessage(e.message); return; }
  markTrace(app.state);
  const p = app.points && app.points[split];
  if (p) app.selected = app.state.dims === 1 ? [p.x[index][0], 0, p.y[index]] : p.x[index];
  drawOutput();
  for (const b of $("stages").querySelectorAll("button")) b.disabled = false;
  showStage(0);
}

// A trace is of one step of the network and data it was made on: after a change it would show
// numbers (inputs, layer sizes, α) that are no longer the page's.
function clearTrace(why) {
  app.trace = null;
  markTrace(null);
  const focused = document.activeElement;
  const stageButtons = [...$("stages").querySelectorAll("button"), $("stage-prev"), $("stage-next")];
  for (const b of $("stages").querySelectorAll("button")) { b.disabled = true; b.classList.remove("active"); }
  $("stage-prev").disabled = $("stage-next").disabled = true;
  refocus(focused, stageButtons, [$("explain-btn")]);
  $("explain-body").innerHTML = `<p class="hint">${why}</p>`;
  delete $("explain-body").dataset.stage;
}

// Which network the trace is of, and whether the network has changed since (trained, reset or
// edited): the numbers are then of an earlier network, and the panel says so.
function markTrace(s) {
  const note = $("explain-at"), body = $("explain-body");
  const at = app.trace && app.trace.at;
  if (!at || !s) { note.textContent = ""; note.className = "explain-at"; body.classList.remove("stale"); return; }
  const stale = s.weights_version !== at.weights_version;
  const point = app.trace.point ? `${app.trace.point.split} point ${app.trace.point.index}` : "this point";
  let text = `One training step on ${point}, computed on the network at epoch ${at.epoch.toLocaleString("en-US")}`;
  if (stale) {
    const now = s.epoch !== at.epoch ? `it is at epoch ${s.epoch.toLocaleString("en-US")} now` : "its weights were edited or reset";
    text += ` — out of date: the network has changed since (${now}). Press “Explain this point” again for the network as it is.`;
  } else text += " (the network as it is now).";
  if (note.textContent !== text) note.textContent = text;
  note.className = stale ? "explain-at stale" : "explain-at";
  body.classList.toggle("stale", stale);
}

function showStage(i) {
  if (!app.trace) return;
  app.stage = Math.max(0, Math.min(STAGES.length - 1, i));
  $("stages").querySelectorAll("button").forEach((b, k) => b.classList.toggle("active", k === app.stage));
  const focused = document.activeElement;
  $("stage-prev").disabled = app.stage === 0;
  $("stage-next").disabled = app.stage === STAGES.length - 1;
  // ▶ on the last stage (◀ on the first) is disabled: the focus goes to the other one
  refocus(focused, [$("stage-prev"), $("stage-next")], [$("stage-prev"), $("stage-next")]);
  $("explain-body").innerHTML = renderStage(app.trace, app.stage);
  $("explain-body").dataset.stage = STAGES[app.stage];
}

// -- start ---------------------------------------------------------------------------------------
function connect() {
  const source = new EventSource(session("events"));
  source.addEventListener("state", (ev) => { app.events += 1; applyState(JSON.parse(ev.data)); });
  source.onerror = async () => {
    try { await api("GET", session("state")); } catch (e) {
      source.close();
      // fetch's own TypeError ("Failed to fetch") means no server answered at all
      showMessage(e instanceof TypeError
        ? "Lost the connection to the playground server (it stopped or restarted): reload the page once it runs again."
        : e.message);
    }
  };
  app.source = source;
}

async function init() {
  app.options = await api("GET", "/api/options");
  app.network = new NetworkView($("network"), {
    // each press works on the settings asked for so far (see send): two quick clicks on "+" add
    // two neurons, a press past 1..8 neurons (or on a layer on its way out) does nothing
    toggleFeature: (f) => send((c) => ({ features: c.features.includes(f) ? c.features.filter((x) => x !== f) : [...c.features, f] })),
    neurons: (layer, delta) => send((c) => {
      const n = c.layers[layer] + delta;
      if (layer >= c.layers.length || n < 1 || n > app.options.max_neurons) return null;
      const layers = [...c.layers];
      layers[layer] = n;
      return { layers, act: c.act };
    }),
    activation: (layer, name) => send((c) => {
      if (layer >= c.act.length || c.act[layer] === name) return null;
      const act = [...c.act];
      act[layer] = name;
      return { act };
    }),
    busy: () => app.changes.length > 0,
    editWeight: async (spec, value, what) => {
      // an <input type=number> reads "" when empty or not a number: Number("") would send 0
      const text = String(value).trim();
      if (text === "" || !Number.isFinite(Number(text))) {
        showMessage(`${what}: enter a number between −100 and 100 (the field is empty or not a number).`);
        return false;
      }
      try {
        applyState(await api("PUT", session("weight"), { ...spec, value: Number(text) }), true);
        hideMessage("error");
        return true;
      } catch (e) { showMessage(e.message); return false; }
    },
  });
  setupControls();
  let created;
  const fromUrl = readUrl();
  try {
    created = await api("POST", "/api/sessions", { config: fromUrl.config });
    if (fromUrl.unknown.length) {
      showMessage(`The address has ${fromUrl.unknown.length === 1 ? "a name that is not a setting" : "names that are not settings"}`
        + ` (${fromUrl.unknown.join(", ")}); ignored. Settings: ${Object.keys(app.options.defaults).join(", ")}.`);
    }
  } catch (e) {
    created = await api("POST", "/api/sessions", { config: {} });
    showMessage(`The settings in the address could not be used (${e.message}); showing the defaults instead.`);
  }
  app.sid = created.id;
  await applyState(created.state, true);
  connect();
  document.body.dataset.ready = "1";
}

init().catch((e) => showMessage(`The playground could not start: ${e.message}`));
