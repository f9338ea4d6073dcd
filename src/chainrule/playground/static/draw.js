// Drawing helpers: colours, heatmaps, points, curves, the loss chart. No state lives here.

export const BLUE = [8, 119, 189];
export const ORANGE = [245, 147, 34];
export const CLASS_COLORS = [[245, 147, 34], [8, 119, 189], [44, 160, 44], [148, 103, 189]];
const WHITE = [247, 248, 249];

export function decode(b64) {
  const text = atob(b64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

// v in [-1, 1]: orange (negative) - white - blue (positive)
export function diverging(v, strength = 0.85) {
  const t = Math.min(1, Math.abs(v)) * strength;
  return mix(WHITE, v >= 0 ? BLUE : ORANGE, t);
}

export function rgb(c, alpha = 1) {
  return `rgba(${c[0] | 0},${c[1] | 0},${c[2] | 0},${alpha})`;
}

export function classColor(k) {
  return CLASS_COLORS[k % CLASS_COLORS.length];
}

// Paint an n×n grid of colours onto a canvas, scaled to its size (smooth).
function paintGrid(canvas, n, colorAt) {
  const off = document.createElement("canvas");
  off.width = n; off.height = n;
  const octx = off.getContext("2d");
  const img = octx.createImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const c = colorAt(i);
    img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
  }
  octx.putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = true;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
}

// A byte-coded map (0..255 for -1..1) as a diverging heatmap.
export function drawByteMap(canvas, b64, n, { discretize = false, strength = 0.85 } = {}) {
  const bytes = decode(b64);
  paintGrid(canvas, n, (i) => {
    let v = bytes[i] / 127.5 - 1;
    if (discretize) v = v >= 0 ? 1 : -1;
    return diverging(v, strength);
  });
}

// The output map for several classes: colour of the winning class, paler when unsure.
export function drawClassMap(canvas, labelB64, confB64, n, classes, discretize) {
  const labels = decode(labelB64), conf = decode(confB64);
  const floor = 1 / classes;
  paintGrid(canvas, n, (i) => {
    const c = conf[i] / 255;
    const t = discretize ? 0.5 : Math.max(0, (c - floor) / (1 - floor)) * 0.55;
    return mix(WHITE, classColor(labels[i]), t);
  });
}

// Values in [-1, 1] sampled along x, drawn as a curve in a box (for 1-D data).
export function drawCurve(canvas, values, { lo = -1, hi = 1, color = "#0877bd", width = 2, clear = true, background = true } = {}) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  if (clear) ctx.clearRect(0, 0, W, H);
  if (background) {
    ctx.fillStyle = "#f7f8f9"; ctx.fillRect(0, 0, W, H);
    ctx.strokeStyle = "#dde2e7"; ctx.lineWidth = 1;
    const y0 = H - ((0 - lo) / (hi - lo)) * H;
    ctx.beginPath(); ctx.moveTo(0, y0); ctx.lineTo(W, y0); ctx.stroke();
  }
  ctx.strokeStyle = color; ctx.lineWidth = width;
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = (i / (values.length - 1)) * W;
    const y = H - ((v - lo) / (hi - lo)) * H;
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.stroke();
}

// Data points on top of the output map. extent = [x0, x1, y0, y1].
export function drawPoints(canvas, points, extent, { task, classes, yRange, test = false, selected = null, dims = 2 }) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  const [x0, x1, y0, y1] = extent;
  const n = points.x.length;
  for (let i = 0; i < n; i++) {
    const px = ((points.x[i][0] - x0) / (x1 - x0)) * W;
    const yv = dims === 1 ? points.y[i] : points.x[i][1];
    const py = H - ((yv - y0) / (y1 - y0)) * H;
    let fill;
    if (dims === 1) fill = [60, 60, 60];
    else if (task === "regression") fill = diverging(((points.y[i] - yRange[0]) / (yRange[1] - yRange[0])) * 2 - 1, 1);
    else if (task === "binary") fill = points.y[i] > 0 ? BLUE : ORANGE;
    else fill = classColor(points.y[i]);
    ctx.beginPath();
    if (dims === 1 && test) {  // 1-D: every point is grey, so test points are hollow rings
      ctx.arc(px, py, 3, 0, 2 * Math.PI);
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "#111";
      ctx.stroke();
      continue;
    }
    ctx.arc(px, py, dims === 1 ? 2.5 : 3.2, 0, 2 * Math.PI);
    ctx.fillStyle = rgb(fill);
    ctx.fill();
    ctx.lineWidth = test ? 1.4 : 1;
    ctx.strokeStyle = test ? "#111" : "#fff";
    ctx.stroke();
  }
  if (selected) {
    const p = selected;
    const px = ((p[0] - x0) / (x1 - x0)) * W;
    const py = H - (((dims === 1 ? p[2] : p[1]) - y0) / (y1 - y0)) * H;
    ctx.beginPath(); ctx.arc(px, py, 8, 0, 2 * Math.PI);
    ctx.lineWidth = 2.5; ctx.strokeStyle = "#d6336c"; ctx.stroke();
  }
}

// Axis ticks along the bottom and left edges of the output map.
export function drawAxes(canvas, extent) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  const [x0, x1, y0, y1] = extent;
  ctx.fillStyle = "rgba(31,42,51,.65)";
  ctx.font = "10px system-ui, sans-serif";
  const ticks = (a, b) => {
    const span = b - a, step = span > 8 ? 2 : span > 4 ? 1 : 0.5;
    const out = [];
    for (let v = Math.ceil(a / step) * step; v <= b + 1e-9; v += step) out.push(+v.toFixed(2));
    return out.filter((v) => v > a + span * 0.03 && v < b - span * 0.03);
  };
  // the x labels run along the bottom and the y labels up the left side: the corner they share
  // is left to neither, so that "-1.5" and "-3" do not run together
  ctx.textAlign = "center";
  for (const v of ticks(x0, x1)) {
    const x = ((v - x0) / (x1 - x0)) * W;
    if (x > 26) ctx.fillText(String(v), x, H - 3);
  }
  ctx.textAlign = "left";
  for (const v of ticks(y0, y1)) {
    const y = H - ((v - y0) / (y1 - y0)) * H + 3;
    if (y < H - 14) ctx.fillText(String(v), 3, y);
  }
}

// The loss chart: test (dark) and train (grey) against epochs.
export function drawLossChart(canvas, history) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  const rows = history.filter((r) => r[1] !== null && r[2] !== null);
  if (rows.length < 2) return;
  let top = 0;
  for (const r of rows) top = Math.max(top, r[1], r[2]);
  const hi = top > 0 ? top : 1;
  const e0 = rows[0][0], e1 = rows[rows.length - 1][0] || 1;
  const line = (k, color, width) => {
    ctx.strokeStyle = color; ctx.lineWidth = width; ctx.beginPath();
    rows.forEach((r, i) => {
      const x = ((r[0] - e0) / Math.max(e1 - e0, 1)) * (W - 4) + 2;
      const y = H - 4 - (r[k] / hi) * (H - 20);  // the top 16 px are the label's
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
  };
  line(1, "#9aa6b1", 1.5);
  line(2, "#222", 1.5);
  ctx.fillStyle = "#66737f"; ctx.font = "10px system-ui, sans-serif"; ctx.textAlign = "right";
  ctx.fillText(`max ${top.toPrecision(3)}`, W - 4, 11);  // the largest loss drawn, not the scale's end
}
