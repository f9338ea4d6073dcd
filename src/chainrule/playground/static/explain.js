// The "step through backprop" panel: the server's trace of one step on one point, shown
// stage by stage (forward, loss, backward, gradients, update) with the formula for each line.

export const STAGES = ["Forward", "Loss", "Backward", "Gradients", "Update"];

const fmt = (v) => {
  if (v === null || v === undefined) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e5)) return v.toExponential(3);
  return v.toFixed(5);
};

function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}

function vector(name, values, heads = null) {
  const head = `<td class="head">${name}</td>`;
  if (heads) {
    const top = `<tr><td class="head"></td>${heads.map((h) => `<td class="head">${esc(h)}</td>`).join("")}</tr>`;
    return `<table class="vec">${top}<tr>${head}${values.map((v) => `<td>${fmt(v)}</td>`).join("")}</tr></table>`;
  }
  return `<table class="vec"><tr>${head}${values.map((v) => `<td>${fmt(v)}</td>`).join("")}</tr></table>`;
}

function matrix(name, rows) {
  const body = rows.map((row, i) => `<tr>${i === 0 ? `<td class="head" rowspan="${rows.length}">${name}</td>` : ""}${row.map((v) => `<td>${fmt(v)}</td>`).join("")}</tr>`).join("");
  return `<table class="vec">${body}</table>`;
}

const block = (title, html) => `<div class="layer-block"><div class="layer-title">${title}</div>${html}</div>`;
const formula = (text) => `<div class="formula">${esc(text)}</div>`;

export function renderStage(trace, stage) {
  const L = trace.layers.length;
  const featureNames = Object.keys(trace.point.features);
  const pointLine = `<p class="note">${trace.point.split} point #${trace.point.index} at (${trace.point.coords.map((v) => v.toFixed(3)).join(", ")}), ${trace.point.label_kind} ${trace.point.label_kind === "class" ? trace.point.label : fmt(trace.point.label)}; target as the loss sees it: [${trace.point.target.map(fmt).join(", ")}]. α = ${trace.lr}.</p>`;
  let html = pointLine;
  if (stage === 0) {
    html += formula("a[0] = x  (the input features)");
    html += vector("a[0]", trace.layers[0].a_prev, featureNames);
    html += formula(`${trace.formulas.z};   ${trace.formulas.a}`);
    html += trace.layers.map((l) => block(
      `layer ${l.l}: ${l.n_in} → ${l.n_out}, g(z) = ${esc(l.g)}${l.l === L ? " (output: no activation, the loss takes z)" : ""}`,
      matrix(`W[${l.l}]`, l.W) + vector(`b[${l.l}]`, l.b) + vector(`z[${l.l}]`, l.z) + vector(`a[${l.l}]`, l.a),
    )).join("");
  } else if (stage === 1) {
    const loss = trace.loss;
    html += formula(`${loss.name}: ${loss.formula}`);
    html += vector(`ŷ = a[${L}]`, loss.output) + vector("target", trace.point.target);
    html += `<p class="eq">L = <b>${fmt(loss.value)}</b></p>`;
    html += `<p class="note">Convention: ${esc(loss.convention)}</p>`;
  } else if (stage === 2) {
    html += formula(`dA[${L}] = ∂L/∂a[${L}];   ${trace.formulas.dZ};   ${trace.formulas.dA_prev}`);
    html += [...trace.layers].reverse().map((l) => block(
      `layer ${l.l}: g'(z) = ${esc(l.g_prime)}`,
      vector(`dA[${l.l}]`, l.dA) + vector(`dZ[${l.l}]`, l.dZ) + vector(`dA[${l.l - 1}]`, l.dA_prev),
    )).join("");
  } else if (stage === 3) {
    html += formula(`${trace.formulas.dW};   ${trace.formulas.db}`);
    html += [...trace.layers].reverse().map((l) => block(`layer ${l.l}`, matrix(`dW[${l.l}]`, l.dW) + vector(`db[${l.l}]`, l.db))).join("");
  } else {
    html += formula(trace.update_rule);
    html += trace.layers.map((l) => block(`layer ${l.l}`, matrix(`W[${l.l}] new`, l.W_new) + vector(`b[${l.l}] new`, l.b_new))).join("");
  }
  if (trace.note) html += `<p class="note">${esc(trace.note)}</p>`;
  html += `<p class="note">Computed by ${esc(trace.source)}.</p>`;
  return html;
}
