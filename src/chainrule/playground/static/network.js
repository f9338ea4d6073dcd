// The network diagram: feature nodes, hidden neurons with their heatmaps, output nodes, and
// edges whose width follows |w| and whose colour follows the sign of w.

import { BLUE, ORANGE, classColor, diverging, drawByteMap, drawClassMap, drawCurve, rgb } from "./draw.js";

const SVG = "http://www.w3.org/2000/svg";
const LABELS = { x1: "X₁", x2: "X₂", x1sq: "X₁²", x2sq: "X₂²", x1x2: "X₁X₂", sinx1: "sin X₁", sinx2: "sin X₂" };
const FEATURE_FN = {
  x1: (a) => a, x2: (a, b) => b, x1sq: (a) => a * a, x2sq: (a, b) => b * b,
  x1x2: (a, b) => a * b, sinx1: (a) => Math.sin(a), sinx2: (a, b) => Math.sin(b),
};
const PANEL_HINT = "Hover a line to read its weight (click it to edit); hover a neuron for its bias. " +
  "Keyboard: Tab to the lines or the neurons, arrow keys move, Enter edits.";
// Enter or Space on a focused element that acts as a button
const onActivate = (el, fn) => el.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); fn(); }
});
const sub = (n) => String(n).replace(/\d/g, (d) => "₀₁₂₃₄₅₆₇₈₉"[d]);
const specKey = (s) => `${s.kind}${s.layer}:${s.row}:${s.col ?? ""}`;
const NAV_KEYS = new Set(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End"]);
// A hidden layer's controls, and where the focus goes when the one it was on is gone or disabled
// after a rebuild: first the control itself, then the others of the same layer in this order.
const HEAD_ORDER = {
  "add-neuron": ["add-neuron", "remove-neuron", "activation"],
  "remove-neuron": ["remove-neuron", "add-neuron", "activation"],
  "activation": ["activation", "add-neuron", "remove-neuron"],
};

// A press that reaches a limit disables its button, and the focus goes to a neighbour (a layer's
// "+" at 8 neurons hands it to its "−", add-layer at 6 layers to remove-layer). The rest of that
// press must not press the neighbour: the repeats of a held Enter, or presses made before the page
// has caught up with the server (``busy()``: changes still on their way), were aimed at the
// button that reached its limit. The first press on the neighbour that is neither is the user's:
// it goes through, and the guard is gone. Controls are named by a stable identity (a rebuilt
// diagram has new elements for the same controls).
export function keyGuard(busy) {
  let handed = null;
  const id = (el) => (el.dataset && el.dataset.control ? `${el.dataset.control}:${el.dataset.layer ?? el.dataset.feature ?? ""}` : el.id);
  return {
    handOver(el) { handed = el ? id(el) : null; },
    // true: ``ev`` (a keydown on ``el``) is the rest of a press aimed at the control that handed
    // ``el`` the focus; the caller prevents its default (the button's click)
    blocks(el, ev) {
      if ((ev.key !== "Enter" && ev.key !== " ") || handed === null || handed !== id(el)) return false;
      if (ev.repeat || busy()) return true;
      handed = null;
      return false;
    },
  };
}

export class NetworkView {
  constructor(root, handlers) {
    this.root = root;
    this.svg = root.querySelector("#edges");
    this.columns = root.querySelector("#columns");
    this.panel = document.getElementById("weight-panel");
    this.handlers = handlers; // toggleFeature(name), neurons(layer, delta), activation(layer, name), editWeight(spec, value, name), busy()
    this.keys = keyGuard(() => Boolean(handlers.busy && handlers.busy()));
    this.key = null;
    this.state = null;
    this.editing = null;
    this.shown = null; // the weight or bias the readout shows (kept up to date on every state)
    // The edges are ONE Tab stop, and so are the neurons (WAI-ARIA "roving tabindex"): in each
    // group only the element focused last (at first the first one) has tabindex 0, the others -1,
    // and the arrow keys move the focus within the group (see move()). The spec of each group's
    // Tab stop, by kind ("W": edges, "b": neurons), outlives a rebuild of the diagram.
    this.stops = { W: null, b: null };
    this.groups = { W: [], b: [] };
    new ResizeObserver(() => this.layoutEdges()).observe(root);
  }

  // ``settings``: the settings the page has asked for (the server's, and changes on their way):
  // the layers' counts, buttons and activations and the features' on/off follow them (see
  // showSettings); the diagram itself is the server's network.
  render(state, options, settings = null) {
    this.state = state;
    const available = state.dims === 1 ? options.features_1d : options.features;
    const net = state.network;
    const sizes = net.layers.map((l) => l.W.length);
    const key = JSON.stringify([available, net.features, sizes, net.layers.map((l) => l.act), state.dims, state.task]);
    if (key !== this.key) {
      this.key = key;
      // A rebuild replaces every control in the diagram: the one with the focus (pressed with
      // Enter or Space, or changed with the arrow keys) would take the focus with it to <body>,
      // and the next Tab would start again at the top of the page. It gets it back instead.
      const focus = this.focusedControl();
      this.build(state, available, options);
      if (settings) this.showSettings(settings, options, false);
      if (focus) this.restoreFocus(focus);
    }
    this.update(state);
    if (settings) this.showSettings(settings, options);
  }

  // Show the settings asked for on the diagram's controls at once, before the server answers: a
  // layer's "+" is disabled once the presses made reach 8 neurons ("−" at one), the count says the
  // width asked for, the activation the one chosen, a feature is on or off; a layer on its way
  // out has its controls disabled. Where the focused control is disabled now, the focus goes to
  // its neighbour as after a rebuild (``refocus`` false: the caller does that).
  showSettings(config, options, refocus = true) {
    if (!this.columns) return;
    const focus = refocus ? this.focusedControl() : null;
    const was = document.activeElement;
    for (const head of this.columns.querySelectorAll(".hidden-col .col-head")) {
      const li = Number(head.dataset.layer);
      const n = li < config.layers.length ? Number(config.layers[li]) : null;
      const [plus, minus, select] = ["add-neuron", "remove-neuron", "activation"].map((c) => head.querySelector(`[data-control="${c}"]`));
      const count = head.querySelector(".count");
      plus.disabled = n === null || n >= options.max_neurons;
      minus.disabled = n === null || n <= 1;
      select.disabled = n === null;
      if (n === null) continue;
      const text = `${n} neuron${n > 1 ? "s" : ""}`;
      if (count.textContent !== text) count.textContent = text;
      const act = config.act[li];
      if (act && select.value !== act && [...select.options].some((o) => o.value === act)) select.value = act;
    }
    const features = (config.features || []).map(String);
    for (const node of this.columns.querySelectorAll(".node.feature")) {
      const f = node.dataset.feature, on = features.includes(f);
      if (node.getAttribute("aria-pressed") === String(on)) continue;  // (called on every state streamed)
      node.classList.toggle("off", !on);
      node.title = on ? `${LABELS[f]}: click to remove this input` : `${LABELS[f]}: click to use this input`;
      node.setAttribute("aria-pressed", String(on));
      node.setAttribute("aria-label", `input ${LABELS[f]}: ${on ? "used (press to remove)" : "not used (press to use)"}`);
    }
    if (focus && focus.control && was && was.disabled) this.restoreFocus(focus);
  }

  // What has the focus in the diagram (or in the weight editor), by an identity that outlives a
  // rebuild; null when the focus is elsewhere on the page (then a rebuild leaves it alone).
  focusedControl() {
    const a = document.activeElement;
    if (!a || a === document.body) return null;
    if (this.editing && this.panel.contains(a)) return { spec: this.editing };
    if (!this.root.contains(a)) return null;
    for (const item of (this.items || new Map()).values()) if (item.el === a) return { spec: item.spec };
    const control = a.dataset && a.dataset.control;
    if (!control) return null;
    const features = [...this.columns.querySelectorAll(".node.feature")];
    return { control, layer: Number(a.dataset.layer), feature: a.dataset.feature, index: features.indexOf(a) };
  }

  // Focus the control ``focusedControl()`` named before a rebuild or, where it is gone or
  // disabled now: an edge or neuron -> its group's Tab stop (the first edge or neuron: the gone
  // one was the stop); a feature -> the feature at its place (the last, if there are fewer); a
  // layer's "+" -> that layer's "−" (at the most neurons), "−" -> "+" (at one neuron), then the
  // activation; a layer that is gone -> the remove-layer button, else add-layer; never <body>.
  restoreFocus(focus) {
    let target = null;
    const features = [...this.columns.querySelectorAll(".node.feature")];
    if (focus.spec) {
      target = this.itemFor(focus.spec);
    } else if (focus.control === "feature") {
      target = features.find((n) => n.dataset.feature === focus.feature) || features[Math.min(Math.max(focus.index, 0), features.length - 1)];
    } else if (HEAD_ORDER[focus.control]) {
      const head = this.columns.querySelector(`.hidden-col .col-head[data-layer="${focus.layer}"]`);
      if (head) {
        target = HEAD_ORDER[focus.control].map((c) => head.querySelector(`[data-control="${c}"]`)).find((el) => el && !el.disabled);
      }
      if (!target) target = ["remove-layer", "add-layer"].map((id) => document.getElementById(id)).find((el) => el && !el.disabled);
    }
    if (!target) target = features[0];
    if (!target) return;
    target.focus({ preventScroll: true });  // it is where the old one was
    if (focus.control && focus.control !== target.dataset.control) this.keys.handOver(target);
  }

  // The element of the edge or neuron ``spec``, or its group's Tab stop when it no longer exists.
  itemFor(spec) {
    const kind = spec.kind;
    const item = this.items.get(specKey(spec)) || (this.stops[kind] && this.items.get(specKey(this.stops[kind]))) || this.groups[kind][0];
    return item ? item.el : null;
  }

  build(state, available, options) {
    const net = state.network;
    // the weight being read or edited may no longer exist, or now be another one: start afresh
    this.editing = null;
    this.shown = null;
    this.panel.innerHTML = PANEL_HINT;
    this.columns.innerHTML = "";
    this.nodes = []; // nodes[c][i] = element; column 0 = active features
    this.groups = { W: [], b: [] }; // the edges and the neurons (hidden and output), in arrow-key order
    this.items = new Map(); // specKey -> { el, spec, index } of every edge and neuron
    // features
    const fcol = this.column("feature-col", null);
    const active = [];
    for (const f of available) {
      const node = this.node(fcol, `feature-${f}`);
      node.classList.add("feature");
      const on = net.features.includes(f);
      if (!on) node.classList.add("off");
      node.title = on ? `${LABELS[f]}: click to remove this input` : `${LABELS[f]}: click to use this input`;
      node.dataset.control = "feature";
      node.dataset.feature = f;
      node.setAttribute("role", "button");
      node.setAttribute("aria-pressed", String(on));
      node.setAttribute("aria-label", `input ${LABELS[f]}: ${on ? "used (press to remove)" : "not used (press to use)"}`);
      const tag = document.createElement("span");
      tag.className = "tag"; tag.textContent = LABELS[f];
      node.appendChild(tag);
      node.addEventListener("click", () => this.handlers.toggleFeature(f));
      onActivate(node, () => this.handlers.toggleFeature(f));
      this.drawFeature(node.querySelector("canvas"), f, state);
      if (on) active.push(node);
    }
    this.nodes.push(active);
    // hidden layers
    const hidden = net.layers.slice(0, -1);
    hidden.forEach((layer, li) => {
      const col = this.column("hidden-col", li + 1);
      const head = col.querySelector(".col-head");
      head.dataset.layer = String(li);
      const buttons = document.createElement("div");
      buttons.className = "buttons";
      const plus = this.button("+", `Add a neuron to hidden layer ${li + 1}`, () => this.handlers.neurons(li, +1));
      const minus = this.button("−", `Remove a neuron from hidden layer ${li + 1}`, () => this.handlers.neurons(li, -1));
      plus.dataset.control = "add-neuron"; minus.dataset.control = "remove-neuron";
      plus.dataset.layer = minus.dataset.layer = String(li);
      plus.disabled = layer.W.length >= options.max_neurons;
      minus.disabled = layer.W.length <= 1;
      for (const b of [plus, minus]) {
        b.addEventListener("keydown", (ev) => { if (this.keys.blocks(b, ev)) ev.preventDefault(); });
      }
      buttons.append(plus, minus);
      const count = document.createElement("span");
      count.className = "count";
      count.textContent = `${layer.W.length} neuron${layer.W.length > 1 ? "s" : ""}`;
      const select = document.createElement("select");
      select.className = "act-select";
      select.dataset.control = "activation";
      select.dataset.layer = String(li);
      select.title = `Activation of hidden layer ${li + 1}`;
      for (const a of options.activations) select.add(new Option(a === "xtanh" ? "x·tanh x" : a, a));
      select.value = layer.act;
      select.addEventListener("change", () => this.handlers.activation(li, select.value));
      head.append(buttons, count, select);
      const col_nodes = [];
      for (let i = 0; i < layer.W.length; i++) {
        const node = this.node(col, `neuron-${li + 1}-${i}`);
        const bias = document.createElement("span");
        bias.className = "bias";
        node.appendChild(bias);
        this.editable(node, { kind: "b", layer: li + 1, row: i });
        col_nodes.push(node);
      }
      this.nodes.push(col_nodes);
    });
    // outputs
    const out = net.layers[net.layers.length - 1];
    const ocol = this.column("out-col", "out");
    const onodes = [];
    for (let i = 0; i < out.W.length; i++) {
      const node = this.node(ocol, `output-${i}`);
      node.classList.add("out-node");
      const bias = document.createElement("span");
      bias.className = "bias";
      node.appendChild(bias);
      this.editable(node, { kind: "b", layer: net.layers.length, row: i });
      onodes.push(node);
    }
    this.nodes.push(onodes);
    // edges
    this.svg.innerHTML = "";
    this.edges = [];
    net.layers.forEach((layer, li) => {
      layer.W.forEach((row, r) => row.forEach((w, c) => {
        const path = document.createElementNS(SVG, "path");
        path.setAttribute("class", "edge");
        const hit = document.createElementNS(SVG, "path");
        hit.setAttribute("class", "hit");
        hit.dataset.layer = String(li + 1); hit.dataset.row = String(r); hit.dataset.col = String(c);
        const spec = { kind: "W", layer: li + 1, row: r, col: c };
        hit.addEventListener("mouseenter", () => path.classList.add("hover"));
        hit.addEventListener("mouseleave", () => path.classList.remove("hover"));
        hit.addEventListener("focus", () => path.classList.add("hover"));
        hit.addEventListener("blur", () => path.classList.remove("hover"));
        this.editable(hit, spec);
        this.svg.append(path, hit);
        this.edges.push({ path, hit, spec });
      }));
    });
    for (const kind of ["W", "b"]) {
      // the remembered Tab stop if it still exists, else the first
      const items = this.groups[kind];
      const kept = this.stops[kind] && this.items.get(specKey(this.stops[kind]));
      if (items.length) this.setStop(kept || items[0]);
    }
    requestAnimationFrame(() => this.layoutEdges());
  }

  // A node or edge that reads out its weight (hover or keyboard focus) and edits it (click,
  // Enter or Space). It joins its kind's roving group: Tab stops on one of them, arrows move.
  editable(el, spec) {
    const group = this.groups[spec.kind];
    const item = { el, spec, index: group.length };
    group.push(item);
    this.items.set(specKey(spec), item);
    el.setAttribute("tabindex", "-1");  // setStop() gives one of the group 0
    el.setAttribute("role", "button");
    const d = this.describe(spec);
    el.setAttribute("aria-label", `${d.name} ${d.text}: press to edit`);
    el.setAttribute("aria-describedby", `weight-panel ${spec.kind === "W" ? "edge-keys" : "neuron-keys"}`);
    el.addEventListener("mouseenter", () => this.hover(spec));
    el.addEventListener("focus", () => { this.setStop(item); this.hover(spec); });
    el.addEventListener("click", () => this.startEdit(spec));
    onActivate(el, () => this.startEdit(spec));
    el.addEventListener("keydown", (ev) => {
      if (!NAV_KEYS.has(ev.key) || ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
      ev.preventDefault();  // no scrolling: the arrows belong to the group
      const next = this.move(item, ev.key);
      if (next && next !== item) next.el.focus();
    });
  }

  // Make ``item`` its group's one Tab stop.
  setStop(item) {
    const kind = item.spec.kind;
    const old = this.stops[kind] && this.items.get(specKey(this.stops[kind]));
    if (old && old !== item && old.el.isConnected) old.el.setAttribute("tabindex", "-1");
    item.el.setAttribute("tabindex", "0");
    this.stops[kind] = item.spec;
  }

  // Where an arrow, Home or End key takes the focus from ``item`` (null: nowhere, at a border).
  // Edges: Up/Down the previous/next edge of the same layer in the order of W[l] read row by row
  // (row i = the neuron the edge enters, col j = the unit it leaves); Right follows the path on to
  // the edge out of the neuron this one enters (W[l+1] at row j, col i), Left back to the edge
  // into the unit this one leaves (W[l-1] at row j, col i), so Right then Left comes back; an
  // index past a smaller layer is taken as its last unit. Neurons: Up/Down within their layer,
  // Left/Right to the same position (or the last) in the neighbouring layer. Home/End: the
  // group's first and last element.
  move(item, key) {
    const group = this.groups[item.spec.kind];
    if (key === "Home") return group[0];
    if (key === "End") return group[group.length - 1];
    const { kind, layer, row, col } = item.spec;
    const layers = this.state.network.layers;
    const at = (spec) => this.items.get(specKey(spec)) || null;
    if (kind === "W") {
      if (key === "ArrowUp" || key === "ArrowDown") {
        const next = group[item.index + (key === "ArrowUp" ? -1 : 1)];
        return next && next.spec.layer === layer ? next : null;
      }
      if (key === "ArrowRight") {
        if (layer >= layers.length) return null;
        return at({ kind, layer: layer + 1, row: Math.min(col, layers[layer].W.length - 1), col: row });
      }
      if (layer <= 1) return null;  // ArrowLeft
      return at({ kind, layer: layer - 1, row: col, col: Math.min(row, layers[layer - 2].W[0].length - 1) });
    }
    if (key === "ArrowUp") return at({ kind, layer, row: row - 1 });
    if (key === "ArrowDown") return at({ kind, layer, row: row + 1 });
    const to = layer + (key === "ArrowRight" ? 1 : -1);
    if (to < 1 || to > layers.length) return null;
    return at({ kind, layer: to, row: Math.min(row, layers[to - 1].W.length - 1) });
  }

  column(cls, label) {
    const col = document.createElement("div");
    col.className = `column ${cls}`;
    const head = document.createElement("div");
    head.className = "col-head";
    if (label === "out") head.textContent = "output";
    else if (label === null) head.textContent = "";
    col.appendChild(head);
    this.columns.appendChild(col);
    return col;
  }

  node(col, id) {
    const node = document.createElement("div");
    node.className = "node";
    node.id = id;
    node.tabIndex = 0;
    const canvas = document.createElement("canvas");
    canvas.width = 38; canvas.height = 38;
    node.appendChild(canvas);
    col.appendChild(node);
    return node;
  }

  button(text, title, fn) {
    const b = document.createElement("button");
    b.className = "small"; b.textContent = text; b.title = title;
    b.addEventListener("click", fn);
    return b;
  }

  drawFeature(canvas, f, state) {
    const [x0, x1, y0, y1] = state.extent;
    const fn = FEATURE_FN[f];
    if (state.dims === 1) {
      const values = [];
      for (let i = 0; i < 40; i++) values.push(fn(x0 + ((x1 - x0) * i) / 39, 0));
      const m = Math.max(...values.map(Math.abs)) || 1;
      drawCurve(canvas, values.map((v) => v / m), { width: 1.5 });
      return;
    }
    const n = 20, vals = [];
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
      vals.push(fn(x0 + ((x1 - x0) * c) / (n - 1), y1 - ((y1 - y0) * r) / (n - 1)));
    }
    const m = Math.max(...vals.map(Math.abs)) || 1;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(n, n);
    vals.forEach((v, i) => {
      const c = diverging(v / m);
      img.data.set([c[0], c[1], c[2], 255], 4 * i);
    });
    const off = document.createElement("canvas");
    off.width = n; off.height = n;
    off.getContext("2d").putImageData(img, 0, 0);
    ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
  }

  update(state) {
    const maps = state.maps;
    // hidden neuron maps
    maps.neurons.forEach((layer, li) => layer.forEach((m, i) => {
      const node = this.nodes[li + 1] && this.nodes[li + 1][i];
      if (!node) return;
      const canvas = node.querySelector("canvas");
      if (state.dims === 1) drawCurve(canvas, m.values, { width: 1.5 });
      else drawByteMap(canvas, m.data, maps.neuron_size);
    }));
    // output nodes
    const onodes = this.nodes[this.nodes.length - 1];
    onodes.forEach((node, i) => {
      const canvas = node.querySelector("canvas");
      const o = maps.output;
      if (state.dims === 1) drawCurve(canvas, o.values, { lo: state.extent[2], hi: state.extent[3], width: 1.5 });
      else if (onodes.length === 1 && o.kind !== "classes") drawByteMap(canvas, o.data, maps.size);
      else if (o.kind === "classes" && onodes.length === 1) drawClassMap(canvas, o.label, o.data, maps.size, state.classes, false);
      else {
        const ctx = canvas.getContext("2d");
        ctx.fillStyle = rgb(state.task === "regression" ? BLUE : classColor(i), 0.75);
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.fillStyle = "#fff"; ctx.font = "bold 13px system-ui"; ctx.textAlign = "center";
        ctx.fillText(String(i), canvas.width / 2, canvas.height / 2 + 5);
        node.title = `output ${i + 1}: class ${i}`;
      }
    });
    // biases
    state.network.layers.forEach((layer, li) => {
      (layer.b || []).forEach((b, i) => {
        const node = this.nodes[li + 1] && this.nodes[li + 1][i];
        const dot = node && node.querySelector(".bias");
        if (dot) dot.style.background = rgb(diverging(Math.tanh(b), 1));
      });
    });
    this.styleEdges(state);
    if (this.shown && !this.editing) this.hover(this.shown);  // the value as it is now
  }

  styleEdges(state) {
    if (!this.edges) return;
    let wmax = 1;
    for (const l of state.network.layers) for (const row of l.W) for (const w of row) wmax = Math.max(wmax, Math.abs(w));
    for (const e of this.edges) {
      const w = state.network.layers[e.spec.layer - 1].W[e.spec.row][e.spec.col];
      e.path.setAttribute("stroke", rgb(w >= 0 ? BLUE : ORANGE));
      e.path.setAttribute("stroke-width", (0.4 + 6 * Math.abs(w) / wmax).toFixed(2));
      e.path.setAttribute("stroke-opacity", (0.35 + 0.55 * Math.min(1, Math.abs(w) / wmax)).toFixed(2));
    }
  }

  layoutEdges() {
    if (!this.edges || !this.nodes) return;
    // coordinates in the diagram's scrolled content (it scrolls sideways when the window is too narrow)
    const base = this.root.getBoundingClientRect();
    const dx = this.root.scrollLeft - base.left;
    const centre = (el, side) => {
      const r = el.getBoundingClientRect();
      return [(side > 0 ? r.right : r.left) + dx, r.top + r.height / 2 - base.top];
    };
    for (const e of this.edges) {
      const src = this.nodes[e.spec.layer - 1][e.spec.col];
      const dst = this.nodes[e.spec.layer][e.spec.row];
      if (!src || !dst) continue;
      const [xa, ya] = centre(src, +1);
      const [xb, yb] = centre(dst, -1);
      const mx = (xa + xb) / 2;
      const d = `M${xa},${ya} C${mx},${ya} ${mx},${yb} ${xb},${yb}`;
      e.path.setAttribute("d", d);
      e.hit.setAttribute("d", d);
    }
  }

  describe(spec) {
    const net = this.state.network;
    const L = net.layers.length;
    // units are numbered from 1, like the lecture's subscripts; class labels are the data's (from 0)
    const classes = this.state.task !== "regression" && net.layers[L - 1].W.length > 1;
    const where = (layer, i) => (layer === L ? `output ${i + 1}${classes ? ` (class ${i})` : ""}` : `neuron ${i + 1} of hidden layer ${layer}`);
    if (spec.kind === "W") {
      const from = spec.layer === 1 ? net.labels[spec.col] : where(spec.layer - 1, spec.col);
      const value = net.layers[spec.layer - 1].W[spec.row][spec.col];
      return { label: `W[${spec.layer}]<sub>${spec.row + 1},${spec.col + 1}</sub>`, name: `W[${spec.layer}]${sub(spec.row + 1)},${sub(spec.col + 1)}`,
        text: `from ${from} to ${where(spec.layer, spec.row)}`, value };
    }
    const value = net.layers[spec.layer - 1].b[spec.row];
    return { label: `b[${spec.layer}]<sub>${spec.row + 1}</sub>`, name: `b[${spec.layer}]${sub(spec.row + 1)}`, text: `bias of ${where(spec.layer, spec.row)}`, value };
  }

  hover(spec) {
    if (this.editing) return;
    this.shown = spec;
    const d = this.describe(spec);
    const html = `${d.label} ${d.text} = <b>${d.value.toFixed(4)}</b> <span class="hint">(click to edit)</span>`;
    if (this.panel.innerHTML !== html) this.panel.innerHTML = html;
  }

  startEdit(spec) {
    this.editing = spec;
    const d = this.describe(spec);
    this.panel.innerHTML = `${d.label} ${d.text}: <input id="weight-input" type="number" step="0.01" value="${d.value}"> ` +
      `<button id="weight-set" class="primary">set</button> <button id="weight-cancel" class="text">cancel</button>`;
    const input = this.panel.querySelector("#weight-input");
    const done = () => {
      // the editor had the focus (Enter, Escape, set, cancel): it goes back to the edge or
      // neuron edited, not to <body> with the editor's input
      const back = this.panel.contains(document.activeElement);
      this.editing = null; this.shown = null; this.panel.innerHTML = PANEL_HINT;
      if (back && this.items) { const el = this.itemFor(spec); if (el) el.focus(); }
    };
    const commit = async () => {
      const ok = await this.handlers.editWeight(spec, input.value, d.name);
      if (ok) done();
    };
    input.focus(); input.select();
    input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") commit(); if (ev.key === "Escape") done(); });
    this.panel.querySelector("#weight-set").addEventListener("click", commit);
    this.panel.querySelector("#weight-cancel").addEventListener("click", done);
  }
}
