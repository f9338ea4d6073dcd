// The "step through backprop" panel: chainrule.inspect.explain's trace (schema chainrule.explain/1)
// of one gradient-descent step on one point, shown stage by stage (forward, loss, backward,
// gradients, update) with the equation the library used for each line. One point is one row,
// so every (1, n) array of the trace is shown as the vector of its only row.

export const STAGES = ["Forward", "Loss", "Backward", "Gradients", "Update"];

const fmt = (v) => {
  if (v === null || v === undefined) return "–";
  if (typeof v === "string") return v; // "NaN", "Infinity", "-Infinity" in the JSON schema
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e5)) return v.toExponential(3);
  return v.toFixed(5);
};

function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}

const row = (value) => (Array.isArray(value) ? (Array.isArray(value[0]) ? value[0] : value) : [value]);

function vector(name, values, heads = null, format = fmt) {
  if (values === null || values === undefined) return "";
  const head = `<td class="head">${esc(name)}</td>`;
  const cells = row(values).map((v) => `<td>${format(v)}</td>`).join("");
  const top = heads ? `<tr><td class="head"></td>${heads.map((h) => `<td class="head">${esc(h)}</td>`).join("")}</tr>` : "";
  return `<table class="vec">${top}<tr>${head}${cells}</tr></table>`;
}

function matrix(name, rows) {
  if (!rows) return "";
  const body = rows.map((r, i) => `<tr>${i === 0 ? `<td class="head" rowspan="${rows.length}">${esc(name)}</td>` : ""}${r.map((v) => `<td>${fmt(v)}</td>`).join("")}</tr>`).join("");
  return `<table class="vec">${body}</table>`;
}

const block = (title, html) => `<div class="layer-block"><div class="layer-title">${title}</div>${html}</div>`;
const formula = (text) => `<div class="formula">${esc(text)}</div>`;
const equations = (layer, keys) => keys.filter((k) => layer.equations[k]).map((k) => formula(layer.equations[k])).join("");

// Cross-entropy takes the class index as its target and compares the softmax with its one-hot
// row; the other losses take a row of numbers (0/1, ±1, one-hot, or the real target).
function classTarget(trace) {
  if (trace.loss.name !== "cross_entropy") return null;
  const k = Math.round(row(trace.y)[0]);
  const onehot = row(trace.output).map((_, j) => (j === k ? 1 : 0));
  return { k, onehot };
}

// Labels (0/1 for BCE, ±1 for hinge) read as whole numbers; a real-valued target keeps its digits.
const targetNumber = (v) => (Number.isInteger(v) ? String(v) : fmt(v));

function targetText(trace) {
  const c = classTarget(trace);
  if (c) return `class Y = ${c.k}, onehot(Y) = [${c.onehot.join(", ")}]`;
  return `Y = [${row(trace.y).map(targetNumber).join(", ")}]`;
}

function targetVectors(trace) {
  const c = classTarget(trace);
  if (!c) return vector("Y", trace.y, null, targetNumber);
  const classes = c.onehot.map((_, j) => `class ${j}`);
  return vector("Y (class)", [c.k], null, String) + vector("onehot(Y)", c.onehot, classes, String);
}

function pointLine(trace) {
  const p = trace.point;
  const label = p.label_kind === "class" ? p.label : fmt(p.label);
  return `<p class="note">${p.split} point #${p.index} at (${p.coords.map((v) => v.toFixed(3)).join(", ")}), ${p.label_kind} ${label}; `
    + `target as the loss sees it: ${targetText(trace)}. α = ${trace.lr}. `
    + `Samples are rows: A[0] = X is one row, Z[l] = A[l-1] W[l]ᵀ + b[l] is z = W x + b for it.</p>`;
}

function activationTitle(l, L) {
  const g = l.activation === "identity" ? "none (linear: A = Z)" : `${esc(l.symbol)}(z) = ${esc(l.formula)}`;
  return `layer ${l.l}: ${l.n_in} → ${l.n_out}, activation ${g}${l.l === L && l.activation === "identity" ? " — the loss takes the output Z" : ""}`;
}

export function renderStage(trace, stage) {
  const L = trace.layers.length;
  const layers = trace.layers;
  const backwards = [...layers].reverse();
  let html = pointLine(trace);
  if (stage === 0) {
    html += formula("A[0] = X  (the input features)");
    html += vector("A[0]", layers[0].A_prev, Object.keys(trace.point.features));
    html += layers.map((l) => block(activationTitle(l, L),
      equations(l, ["Z", "A"]) + matrix(`W[${l.l}]`, l.W) + vector(`b[${l.l}]`, l.b) + vector(`Z[${l.l}]`, l.Z) + vector(`A[${l.l}]`, l.A),
    )).join("");
  } else if (stage === 1) {
    const loss = trace.loss;
    html += formula(`${loss.name}: ${loss.formula}`);
    html += vector(`output A[${L}]`, trace.output) + vector("prediction", trace.prediction) + targetVectors(trace);
    html += `<p class="eq">L = <b>${fmt(loss.value)}</b></p>`;
    if (loss.penalty) {  // the weight penalty whose gradient the update adds (L1/L2 setting)
      const terms = [trace.l1 ? `${trace.l1} Σ|W|` : "", trace.l2 ? `(${trace.l2}/2) Σ‖W‖²` : ""].filter(Boolean);
      html += `<p class="eq">L_reg = L + ${terms.join(" + ")} = ${fmt(loss.value)} + ${fmt(loss.penalty)} = <b>${fmt(loss.regularised_value)}</b></p>`;
    }
    html += `<p class="note">Convention: ${esc(loss.convention)}</p>`;
  } else if (stage === 2) {
    html += formula(trace.loss.gradient);
    html += backwards.map((l) => block(`layer ${l.l}: ${esc(l.symbol)}'(z) = ${esc(l.derivative_formula)}`,
      equations(l, ["g_prime", "dZ", "dA_prev"]) + vector(`dA[${l.l}]`, l.dA) + vector(`g'(Z[${l.l}])`, l.g_prime)
        + vector(`dZ[${l.l}]`, l.dZ) + vector(`dA[${l.l - 1}]`, l.dA_prev),
    )).join("");
  } else if (stage === 3) {
    html += backwards.map((l) => block(`layer ${l.l}`,
      equations(l, ["dW", "db"]) + matrix(`dW[${l.l}]`, l.dW) + vector(`db[${l.l}]`, l.db))).join("");
  } else {
    html += formula(trace.update_rule);
    html += layers.map((l) => block(`layer ${l.l}`,
      equations(l, ["W_new", "b_new"]) + matrix(`W[${l.l}] new`, l.W_new) + vector(`b[${l.l}] new`, l.b_new))).join("");
  }
  if (trace.note) html += `<p class="note">${esc(trace.note)}</p>`;
  html += `<p class="note">Computed by chainrule.inspect.explain (${esc(trace.schema)}): the library's own layers, loss and SGD step, one layer at a time.</p>`;
  return html;
}
