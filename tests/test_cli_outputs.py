"""What the CLI writes, and where: --save, --out and --plots never replace an input or one
another, '-' is standard output, compressed CSV by extension, reports that are not
hard-wrapped in logs."""

import io
import json
import os

import pandas as pd
import pytest

from chainrule.cli import main
from chainrule.cli._train_report import loss_text
from conftest import one_line_error, train_iris


def test_save_refuses_to_overwrite_the_input_table(tmp_path, iris_csv, capsys):
    before = iris_csv.read_bytes()
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link.csv"
    link.symlink_to(iris_csv)
    hard = tmp_path / "hard.csv"
    os.link(iris_csv, hard)
    for save in (iris_csv, tmp_path / "sub" / ".." / "iris.csv", link, hard):
        err = one_line_error(train_iris(iris_csv, "--save", save, "--no-plots"), capsys)
        assert f"--save {save} is the input table" in err
    assert iris_csv.read_bytes() == before


def test_save_refuses_a_figure_the_run_writes_into_plots(tmp_path, iris_csv, capsys):
    plots = tmp_path / "plots"
    err = one_line_error(train_iris(iris_csv, "--save", plots / "loss_curve.png", "--plots", plots), capsys)
    assert f"--save {plots / 'loss_curve.png'} is loss_curve.png, a figure --plots {plots} writes" in err
    plots.mkdir()
    err = one_line_error(train_iris(iris_csv, "--save", f"{tmp_path}/./plots/network.png", "--plots", f"{plots}/"),
                           capsys)
    assert "is network.png, a figure --plots" in err
    err = one_line_error(train_iris(iris_csv, "--save", plots, "--plots", plots), capsys)
    assert "is a directory" in err or "is the --plots directory" in err
    assert list(plots.iterdir()) == []
    # --no-plots writes no figure, so the name is free
    assert main(train_iris(iris_csv, "--save", plots / "network.png", "--plots", plots, "--no-plots")) == 0
    assert (plots / "network.png").read_bytes()[8:20] == b'{"__metadata'


@pytest.mark.parametrize("command", ["train", "predict"])
def test_a_missing_directory_with_a_trailing_slash_is_not_a_file_name(tmp_path, iris_csv, command, capsys):
    if command == "train":
        argv, option = train_iris(iris_csv, "--save", f"{tmp_path}/newdir/", "--no-plots"), "--save"
    else:
        model = tmp_path / "m.chainrule"
        assert main(train_iris(iris_csv, "--save", model, "--no-plots")) == 0
        argv, option = ["predict", str(model), str(iris_csv), "--out", f"{tmp_path}/newdir/"], "--out"
    err = one_line_error(argv, capsys)
    assert f"{option} {tmp_path}/newdir/: directory {tmp_path}/newdir/ does not exist" in err
    assert not (tmp_path / "newdir").exists()


@pytest.fixture
def model_and_table(tmp_path, iris_csv):
    model = tmp_path / "m.chainrule"
    assert main(train_iris(iris_csv, "--save", model, "--no-plots")) == 0
    return model, iris_csv


def test_predict_out_dash_is_standard_output(tmp_path, model_and_table, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["predict", *map(str, model_and_table)]) == 0
    default = capsys.readouterr()
    assert main(["predict", *map(str, model_and_table), "--out", "-"]) == 0
    dash = capsys.readouterr()
    assert dash.out == default.out and dash.out.startswith("prediction,p_setosa,") and dash.err == ""
    assert not (tmp_path / "-").exists()
    assert main(["predict", *map(str, model_and_table), "--out", "./-"]) == 0  # a file called '-'
    assert (tmp_path / "-").read_text() == dash.out and capsys.readouterr().out == ""


def test_predict_out_refuses_a_fifo_and_a_link_to_one(tmp_path, model_and_table, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link-to-pipe"
    link.symlink_to(fifo)
    for out, named in ((fifo, f"--out {fifo} is a pipe (FIFO)"), (link, f"--out {link} (a link to {fifo}) is a pipe (FIFO)")):
        err = one_line_error(["predict", *map(str, model_and_table), "--out", str(out)], capsys)
        assert named in err and "not a regular file; for standard output use --out -" in err
    assert fifo.is_fifo() and link.is_symlink() and link.resolve() == fifo


@pytest.mark.parametrize("name", ["p.csv.gz", "p.csv.bz2", "p.CSV.XZ", "p.csv.zip"])
def test_predict_out_compresses_by_extension(tmp_path, model_and_table, name, capsys):
    out = tmp_path / name
    assert main(["predict", *map(str, model_and_table), "--out", str(out)]) == 0
    assert main(["predict", *map(str, model_and_table)]) == 0
    plain = capsys.readouterr().out
    assert not out.read_bytes().startswith(b"prediction")  # compressed, not CSV under that name
    kind = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}[out.suffix.lower()]
    read = pd.read_csv(out, compression=kind)
    pd.testing.assert_frame_equal(read, pd.read_csv(io.StringIO(plain)))
    assert list(read.columns) == ["prediction", "p_setosa", "p_versicolor", "p_virginica"]


def test_predict_json_out_compresses_too(tmp_path, model_and_table, capsys):
    out = tmp_path / "p.json.gz"
    assert main(["predict", *map(str, model_and_table), "--out", str(out), "--json"]) == 0
    assert pd.read_json(out, compression="gzip").shape == (150, 4)


@pytest.mark.parametrize("name, json, message", [
    ("p.parquet", False, "predict does not write .parquet files; it writes CSV, compressed when"),
    ("p.xlsx", False, "predict does not write .xlsx files"),
    ("p.parquet.gz", False, "predict does not write .parquet files"),
    ("p.json", False, "add --json to write JSON"),
    ("p.csv", True, "--json writes JSON; name the file .json"),
])
def test_predict_out_refuses_formats_it_does_not_write(tmp_path, model_and_table, name, json, message, capsys):
    out = tmp_path / name
    err = one_line_error(["predict", *map(str, model_and_table), "--out", str(out), *(["--json"] if json else [])],
                           capsys)
    assert f"--out {out}: {message}" in err and not out.exists()


def test_save_refuses_a_fifo(tmp_path, iris_csv, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    err = one_line_error(train_iris(iris_csv, "--save", fifo, "--no-plots"), capsys)
    assert f"--save {fifo} is a pipe (FIFO), not a regular file" in err and fifo.is_fifo()


def test_reports_are_not_hard_wrapped_when_piped(tmp_path, iris_csv, monkeypatch, capsys):
    """Standard output is a pipe here (captured): no line is cut at rich's 80 columns, nor at $COLUMNS."""
    monkeypatch.setenv("COLUMNS", "80")
    data = tmp_path / ("a_rather_long_name_for_a_measurements_table_" + "x" * 40 + ".csv")
    data.write_bytes(iris_csv.read_bytes())
    model = tmp_path / ("model_" + "y" * 60 + ".chainrule")
    assert main(train_iris(data, "--save", model, "--no-plots")) == 0
    out = capsys.readouterr().out
    assert f"{data}: network 4-8-8-3 (tanh), loss cross_entropy, 3 epochs; standardised features\n" in out
    assert f"wrote {model}\n" in out
    assert main(["evaluate", str(model), str(data)]) == 0
    out = capsys.readouterr().out
    assert f"{model.name} on {data.name}, target species\n" in out
    assert "confusion matrix (rows: true class, columns: predicted)\n" in out
    assert main(["datasets"]) == 0
    assert "seed 002: make_moons(200, noise=0.2, random_state=42)" in capsys.readouterr().out


def _figures(monkeypatch):
    """The figures train writes, by file name (drawn, then saved as usual)."""
    import chainrule.cli._train_report as report

    figures = {}
    save = report.save_figure

    def spy(figure, path):
        figure.canvas.draw()
        figures[path.name] = figure
        save(figure, path)

    monkeypatch.setattr(report, "save_figure", spy)
    return figures


def test_train_plots_small_units_and_classes_sharing_a_prefix(tmp_path, monkeypatch, capsys):
    from sklearn.datasets import make_moons

    X, y = make_moons(300, noise=0.15, random_state=0)
    strains = [f"Escherichia coli K-12 MG1655 {kind}" for kind in ("ΔaraC mutant", "ΔlacZ mutant")]
    frame = pd.DataFrame({"conc_A (mol/L)": 1e-3 * X[:, 0] + 5e-3, "conc_B (mol/L)": 1e-3 * X[:, 1] + 2e-3,
                          "strain": [strains[i] for i in y]})
    frame.to_csv(tmp_path / "conc.csv", index=False)
    figures = _figures(monkeypatch)
    assert main(["train", "--data", str(tmp_path / "conc.csv"), "--target", "strain", "--epochs", "20", "--quiet",
                 "--plots", str(tmp_path / "plots")]) == 0
    ax = figures["decision_boundary.png"].axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"strain = {s}" for s in strains]
    low, high = ax.get_xlim()  # the training rows' range and a tenth of it either side (it was ±0.5)
    x = frame["conc_A (mol/L)"]
    span = x.max() - x.min()
    assert x.min() - 0.15 * span < low < x.min() + 0.1 * span and x.max() - 0.1 * span < high < x.max() + 0.15 * span
    ticks = [t.get_text() for t in figures["confusion_matrix.png"].axes[0].get_xticklabels()]
    assert ticks == ["Escherichia…ΔaraC mutant", "Escherichia…ΔlacZ mutant"]
    names = {t.get_text() for t in figures["network.png"].axes[0].texts}
    assert "strain = Escherichia…MG1655 ΔlacZ mutant" in names


def test_early_stopping_reports_the_restored_weights_validation_loss(iris_csv, capsys):
    argv = ["train", "--data", str(iris_csv), "--target", "species", "--early-stopping", "10", "--epochs", "2000",
            "--no-plots"]
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    restored = report["restored_epoch"]
    assert restored is not None and restored < report["epochs_run"]  # stopped past the best epoch
    # final_val_loss is the returned (restored) weights', as the validation row; the last epoch's apart
    assert report["final_val_loss"] == report["validation"]["loss"]
    assert report["last_epoch_val_loss"] > report["final_val_loss"]
    assert main([*argv, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert (f"restored the weights after epoch {restored} (lowest validation loss, {loss_text(report['final_val_loss'])}; "
            f"the last epoch's was {loss_text(report['last_epoch_val_loss'])}): the table reports them") in out


def test_a_fifo_where_a_figure_goes_is_refused_before_training(tmp_path, iris_csv, capsys):
    """It was found only when that figure was written: after training, the model and the
    earlier figures."""
    plots = tmp_path / "plots"
    plots.mkdir()
    os.mkfifo(plots / "network.png")
    model = tmp_path / "m.chainrule"
    err = one_line_error(train_iris(iris_csv, "--save", model, "--plots", plots), capsys)
    assert "network.png is a pipe (FIFO)" in err and "--plots" in err
    assert not model.exists() and sorted(p.name for p in plots.iterdir()) == ["network.png"]


def test_long_column_names_are_shortened_on_the_axes(tmp_path, monkeypatch, capsys):
    """A CSV column name of 80 characters ran off both edges of the decision boundary's axis."""
    from sklearn.datasets import make_moons

    X, y = make_moons(120, noise=0.15, random_state=0)
    long_x = "concentration of the first reagent measured at the inlet of the reactor (mol/L)"
    long_y = "concentration of the second reagent measured at the outlet of the reactor ($/L)"
    frame = pd.DataFrame({long_x: X[:, 0], long_y: X[:, 1], "label": y})
    frame.to_csv(tmp_path / "long.csv", index=False)
    figures = _figures(monkeypatch)
    assert main(["train", "--data", str(tmp_path / "long.csv"), "--target", "label", "--epochs", "5", "--quiet",
                 "--plots", str(tmp_path / "plots")]) == 0
    figure = figures["decision_boundary.png"]
    ax = figure.axes[0]
    xlabel, ylabel = ax.get_xlabel(), ax.get_ylabel()
    assert xlabel.startswith("concentration") and "…" in xlabel and xlabel.endswith("(mol/L)")
    assert len(xlabel) <= 48 and "\\$" in ylabel  # shown literally, not as mathtext
    renderer = figure._get_renderer()
    inside = figure.bbox
    for label in (ax.xaxis.label, ax.yaxis.label):
        box = label.get_window_extent(renderer)
        assert inside.x0 - 1 <= box.x0 and box.x1 <= inside.x1 + 1 and inside.y0 - 1 <= box.y0 and box.y1 <= inside.y1 + 1


def test_a_tiny_loss_is_printed_with_its_digits_not_as_zero(capsys):
    # iris's training set is separable: full-batch Adam drives its loss below 1e-3 (6 decimals: 0.0000xx)
    argv = ["train", "--dataset", "iris", "--epochs", "2000", "--optimizer", "adam", "--lr", "0.05",
            "--no-plots", "--quiet"]
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0 < report["train"]["loss"] < 1e-3
    assert main(argv) == 0
    train_row = next(line for line in capsys.readouterr().out.splitlines() if "train" in line and "│" in line)
    assert "0.000000" not in train_row and f"{report['train']['loss']:.3e}" in train_row
    assert loss_text(0.0) == "0.000000" and loss_text(0.25) == "0.250000" and loss_text(-2e-5) == "-2.000e-05"

