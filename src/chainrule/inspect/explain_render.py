"""Renderings of an explain ``Trace``: a rich terminal report, Markdown with LaTeX, JSON.

Numbers are shown with 10 significant digits in float64 (``NUMBER_FORMAT``), enough to check a
hand calculation, and 7 in float32, about what it holds (``DIGITS``); an updated weight whose
change is hidden by that rounding is shown with the digits that reveal it. JSON keeps full
precision.
"""

from __future__ import annotations

import io
import json

import numpy as np

NUMBER_FORMAT = ".10g"

#: Significant digits shown per dtype: float32 keeps about 7, float64 about 16 (10 are plenty to
#: check a hand calculation).
DIGITS = {"float32": 7, "float64": 10}
#: The most digits an updated weight is shown with to reveal a change (float64 round-trips at 17).
MAX_DIGITS = 17


def number(x, digits: int = 10) -> str:
    """One number with ``digits`` significant digits (``-0`` shown as ``0``)."""
    x = float(x)
    return format(0.0 if x == 0 else x, f".{digits}g")


def matrix_text(array, digits: int = 10) -> str:
    """A vector as ``[a, b]``, a matrix as one bracketed row per line."""
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 0:
        return number(array, digits)
    if array.ndim == 1:
        return "[" + ", ".join(number(v, digits) for v in array) + "]"
    return "\n".join(matrix_text(row, digits) for row in array)


def matrix_latex(array, digits: int = 10) -> str:
    r"""A ``bmatrix`` (a vector is one row; a scalar is a plain number)."""
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 0:
        return number(array, digits)
    rows = array.reshape(1, -1) if array.ndim == 1 else array
    body = r" \\ ".join(" & ".join(number(v, digits) for v in row) for row in rows)
    return r"\begin{bmatrix}" + body + r"\end{bmatrix}"


def digits_of(trace) -> int:
    """The significant digits the report shows for ``trace``'s dtype."""
    return DIGITS.get(trace.dtype, 10)


def revealing_digits(old, new, digits: int) -> int:
    """The fewest digits, from ``digits`` up to ``MAX_DIGITS``, at which every element of
    ``new`` that differs from ``old`` also prints differently (an update of 3e-13 on a weight
    of 0.5 needs 13: at 10 it prints as the old value)."""
    old, new = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (old, new))
    changed = [(o, n) for o, n in zip(old, new) if o != n and np.isfinite(o) and np.isfinite(n)]
    for d in range(digits, MAX_DIGITS + 1):
        if all(number(o, d) != number(n, d) for o, n in changed):
            return d
    return MAX_DIGITS


# -- the lines of the report, shared by the text and Markdown renderings -------------------------
def _sections(trace):
    """``[(title, [(label, text equation, latex equation, value array, digits), ...]), ...]``."""
    digits = digits_of(trace)
    sections = []
    for title, rows in _plain_sections(trace):
        sections.append((title, [(*row, digits) for row in rows]))
    sections[-1] = (sections[-1][0], [_revealed(row, trace) for row in sections[-1][1]])
    return sections


def _revealed(row, trace):
    """An update row, with the digits that show its change where the report's digits hide it."""
    label, text, latex, value, digits = row
    l = int(label[label.index("[") + 1:label.index("]")])
    step = trace.layer(l)
    old = step.W if label.startswith("W") else step.b
    needed = revealing_digits(old, value, digits)
    if needed > digits:
        text += f"   (shown with {needed} digits: the change is below the {digits} shown elsewhere)"
    return label, text, latex, value, needed


def _plain_sections(trace):
    """The sections' rows without their digits."""
    last = len(trace.layers)
    forward = [("A[0]", "A[0] = X", r"A^{[0]} = X", trace.X)]
    for s in trace.layers:
        forward.append((f"W[{s.l}]", s.equations["W"], s.latex["W"], s.W))
        if s.b is not None:
            forward.append((f"b[{s.l}]", s.equations["b"], s.latex["b"], s.b))
        forward.append((f"Z[{s.l}]", s.equations["Z"], s.latex["Z"], s.Z))
        forward.append((f"A[{s.l}]", s.equations["A"], s.latex["A"], s.A))
    if trace.loss_name in ("bce", "cross_entropy"):
        forward.append(("ŷ", f"ŷ = link(A[{last}])   (probabilities)", rf"\hat y = \operatorname{{link}}(A^{{[{last}]}})",
                        trace.prediction))
    output_text, _ = _output_name(trace.loss_name, last)
    constants_text, _ = _loss_constants(trace)
    loss = [("E" if trace.loss_name == "sse" else "L", f"{trace.loss_formula}   with {output_text}{constants_text}",
             _loss_latex(trace, last), np.float64(trace.loss_value))]
    if trace.l1 or trace.l2:
        loss.append(_regularised_loss(trace))
    backward = [(f"dA[{last}]", trace.loss_gradient, trace.loss_gradient_latex, trace.layers[-1].dA)]
    for s in reversed(trace.layers):
        if not s.is_identity and s.g_prime is not None:
            backward.append((f"{s.symbol}'(Z[{s.l}])", s.equations["g_prime"], s.latex["g_prime"], s.g_prime))
        backward.append((f"dZ[{s.l}]", s.equations["dZ"], s.latex["dZ"], s.dZ))
        backward.append((f"dW[{s.l}]", s.equations["dW"], s.latex["dW"], s.dW))
        if s.db is not None:
            backward.append((f"db[{s.l}]", s.equations["db"], s.latex["db"], s.db))
        backward.append((f"dA[{s.l - 1}]", s.equations["dA_prev"], s.latex["dA_prev"], s.dA_prev))
    update = []
    for s in trace.layers:
        update.append((f"W[{s.l}]", s.equations["W_new"], s.latex["W_new"], s.W_new))
        if s.b_new is not None:
            update.append((f"b[{s.l}]", s.equations["b_new"], s.latex["b_new"], s.b_new))
    return [
        ("Forward pass", forward),
        ("Loss", loss),
        ("Backward pass (chain rule, last layer first)", backward),
        (f"Update (gradient descent, α = {number(trace.lr)})", update),
    ]


def _output_name(loss_name: str, last: int) -> tuple[str, str]:
    """How the loss formula names the network's output ``A[last]``: ``(text, latex)``."""
    if loss_name in ("bce", "cross_entropy"):
        return f"z = A[{last}] (the logits)", rf"$z = A^{{[{last}]}}$ (the logits)"
    if loss_name == "hinge":
        return f"f(x) = A[{last}]", rf"$f(x) = A^{{[{last}]}}$"
    return f"ŷ = A[{last}]", rf"$\hat y = A^{{[{last}]}}$"


def _loss_latex(trace, last: int) -> str:
    latex = {
        "mse": r"L = \frac{1}{n k} \sum (\hat y - y)^2",
        "sse": r"E = \tfrac12 \sum (\hat y - y)^2",
        "bce": r"L = -\frac{1}{n k} \sum \left[y \log \sigma(z) + (1 - y) \log(1 - \sigma(z))\right]",
        "cross_entropy": r"L = -\frac{1}{n} \sum_i \log \operatorname{softmax}(z_i)_{y_i}",
        "hinge": r"L = \frac{1}{n k} \sum \max(0, 1 - y f(x))",
        "huber": r"L = \operatorname{mean}\left(\tfrac12 r^2 \text{ if } |r| \le \delta \text{ else } \delta(|r| - \tfrac12\delta)\right)",
    }.get(trace.loss_name, "L")
    return latex


def _loss_constants(trace) -> tuple[str, str]:
    """``(text, latex)`` defining the loss's own constants after its formula: Huber's δ (named
    "Huber δ": backprop's δ is another thing) and the residual r it is applied to."""
    delta = trace.loss_parameters.get("delta")
    if delta is None:
        return "", ""
    return (f", Huber δ = {number(delta)} and r = ŷ − y",
            rf", Huber $\delta = {number(delta)}$ and $r = \hat y - y$")


def _regularised_loss(trace):
    """The loss with the weight penalty whose gradient the update adds (dW is the data term's)."""
    name = "E" if trace.loss_name == "sse" else "L"
    text, latex = [name], [name]
    if trace.l1:
        text.append(f"{trace.l1:g} Σ_l Σ|W[l]|")
        latex.append(rf"{trace.l1:g} \sum_l \sum |W^{{[l]}}|")
    if trace.l2:
        text.append(f"({trace.l2:g}/2) Σ_l ‖W[l]‖²")
        latex.append(rf"\tfrac{{{trace.l2:g}}}{{2}} \sum_l \lVert W^{{[l]}} \rVert^2")
    return (f"{name}_reg", f"{name}_reg = {' + '.join(text)}   (the penalty the update's terms are the gradient of)",
            rf"{name}_{{reg}} = " + " + ".join(latex), np.float64(trace.loss_value + trace.penalty))


def _header_lines(trace):
    sizes = trace.sizes
    acts = [f"custom {s.activation!r}" if s.custom else s.activation for s in trace.layers]
    shape = f"{sizes[0]}" + "".join(f" → {n} ({a})" for n, a in zip(sizes[1:], acts))
    delta = trace.loss_parameters.get("delta")
    lines = [f"Description: {trace.description}"] if trace.description else []
    lines += [
        f"Network: {shape}; {trace.n_samples} sample(s); {trace.dtype}; learning rate α = {number(trace.lr)}",
        f"Loss: {trace.loss_name} — {trace.loss_convention}" + (f" (Huber δ = {number(delta)})" if delta else ""),
        ("Samples are rows: A[0] = X, and each row of Z[l] = A[l-1] W[l]ᵀ + b[l] is z = W x + b for one "
         "example; * is element-wise multiplication; dX means ∂L/∂X, the gradient of the loss with respect to X; "
         f"n = {trace.n_samples} is the number of samples and k = {trace.sizes[-1]} the number of outputs."),
        _digits_line(trace),
    ]
    lecture = _lecture_output_layer(trace)
    if lecture:
        lines.append(lecture)
    if trace.non_finite:
        lines.append(_non_finite_line(trace))
    return lines


def _digits_line(trace) -> str:
    """How many digits the numbers carry."""
    digits = digits_of(trace)
    held = {"float32": "about 7", "float64": "about 16"}.get(trace.dtype, "")
    return (f"Numbers are shown with {digits} significant digits ({trace.dtype} holds {held}); updated weights whose "
            "change those digits would hide are shown with more." if held else f"Numbers are shown with {digits} significant digits.")


def _non_finite_line(trace) -> str:
    """The warning of a step holding ±inf or NaN, telling an overflow from an undefined value."""
    first = trace.first_non_finite()
    causes = []
    if "inf" in first:
        causes.append(f"±inf (an overflow of the {trace.dtype} range, or a division by zero) first in {first['inf']}")
    if "nan" in first:
        causes.append(f"NaN (an undefined 0/0, inf − inf or 0·inf) first in {first['nan']}")
    return (f"Warning: this step is not finite: {'; '.join(causes)}. Inf or NaN in {', '.join(trace.non_finite)}. "
            "Smaller inputs, weights or learning rate keep it finite.")


def _lecture_output_layer(trace) -> str | None:
    """How a loss on logits maps onto the lecture's output layer, which applies the sigmoid
    (softmax) itself and keeps the 1/m for dW and db: the same step, other intermediate numbers.

    Seed 002's binary cross-entropy has one output; with k outputs its dZ = A − Y sums the
    outputs' losses where chainrule's ``bce`` averages them, so its dW, db and update are k
    times the trace's."""
    link = {"bce": "σ", "cross_entropy": "softmax"}.get(trace.loss_name)
    last = trace.layers[-1]
    if link is None or not last.is_identity:
        return None
    L, k = len(trace.layers), trace.sizes[-1]
    bce = trace.loss_name == "bce"
    factor = trace.n_samples * (k if bce else 1)
    m = "n·k" if bce else "n"
    grads = f"dW[{L}] and db[{L}]" if last.b is not None else f"dW[{L}]"
    named = "dW, db" if last.b is not None else "dW"
    if bce and k > 1:
        same = (f"its {named} and update are k = {k} times these (it sums the {k} outputs' losses, "
                f"chainrule's bce averages them).")
    else:
        same = f"{named} and the update are the same."
    return (f"The lecture's output layer applies {link} itself (A[{L}] = {link}(Z[{L}]), dZ[{L}] = A[{L}] − Y, "
            f"with 1/m in {grads}): its A[{L}] is ŷ here, and its dZ and dA are {m} = {factor} times "
            f"these; {same}")


# -- rich text ----------------------------------------------------------------------------------
def renderable(trace):
    """A rich renderable of the report: a header, then one table per section (quantity,
    equation, value) where the console is wide enough for the widest row, else each row as
    its equation with the value below it, wrapped between numbers, so that no number is cut."""
    return _Report(trace)


class _Report:
    def __init__(self, trace):
        self.trace = trace

    def __rich_console__(self, console, options):
        from rich.measure import Measurement
        from rich.padding import Padding
        from rich.table import Table
        from rich.text import Text

        yield Text("One step of backpropagation (chainrule.inspect.explain)", style="bold")
        for line in _header_lines(self.trace):
            yield Text(line)
        for title, rows in _sections(self.trace):
            table = Table(title=title, title_justify="left", title_style="bold cyan", show_lines=False,
                          expand=False, pad_edge=False)
            table.add_column("quantity", style="bold", no_wrap=True)
            table.add_column("equation", style="green", no_wrap=True)
            table.add_column("value", no_wrap=True)
            for label, text, _latex, value, digits in rows:
                # Text, not str: rich would read "[y_i]" or "[inf, 1]" as markup and drop it
                table.add_row(Text(label), Text(text), Text(matrix_text(value, digits)))
            # measured without the console's limit (Measurement.get clamps to it)
            if Measurement.get(console, options.update_width(1 << 20), table).maximum <= options.max_width:
                yield table
                continue
            yield Text(title, style="bold cyan")
            for label, text, _latex, value, digits in rows:
                named = text.startswith(label)  # "dW[1] = dZ[1]ᵀ A[0]" names itself
                yield Text.assemble(*([] if named else [(label, "bold"), "  "]), (text, "green"))
                yield Padding(Text(matrix_text(value, digits)), (0, 0, 0, 4))


def render_text(trace, width: int = 110) -> str:
    """The terminal report as plain text (no colour codes)."""
    from rich.console import Console

    console = Console(file=io.StringIO(), width=width, record=True, color_system=None, force_terminal=False)
    console.print(renderable(trace))
    return console.export_text()


# -- Markdown with LaTeX ---------------------------------------------------------------------------
def render_markdown(trace) -> str:
    """Markdown with ``$$ ... $$`` LaTeX equations, one per quantity, each with its value."""
    lines = ["# One step of backpropagation", ""]
    lines += [f"- {line}" for line in _header_lines(trace)]
    lines.append("")
    for title, rows in _sections(trace):
        lines += [f"## {title}", ""]
        for label, text, latex, value, digits in rows:
            lines += [f"$${latex} = {matrix_latex(value, digits)}$$", ""]
            if label in ("L", "E"):
                lines += [f"with {_output_name(trace.loss_name, len(trace.layers))[1]}{_loss_constants(trace)[1]}.", ""]
    return "\n".join(lines)


# -- JSON ----------------------------------------------------------------------------------------------
def render_json(trace, indent: int | None = 2) -> str:
    """``trace.to_dict()`` as JSON (standard JSON: non-finite numbers are strings)."""
    return json.dumps(trace.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)


__all__ = ["DIGITS", "NUMBER_FORMAT", "digits_of", "revealing_digits", "matrix_latex", "matrix_text", "number", "render_json", "render_markdown",
           "render_text", "renderable"]
