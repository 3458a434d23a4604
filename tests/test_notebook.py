"""The committed report: one fresh top-to-bottom run with this helpers.py, figures, results.json.

These checks read the committed files and run nothing; `pytest --nbval exercise9.ipynb` (part
of the same test command) re-executes the notebook and compares its checked outputs.
"""

import ast
import builtins
import copy
import inspect
import json
import re
from pathlib import Path

import nbformat
import pytest

import helpers
import report
import settings
import tables

ROOT = Path(__file__).resolve().parents[1]
IGNORE = "nbval-ignore-output"


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(ROOT / "exercise9.ipynb", as_version=4)


@pytest.fixture(scope="module")
def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def results():
    return json.loads((ROOT / "results.json").read_text(encoding="utf-8"))


def stdout(cell) -> str:
    return "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")


def test_notebook_is_valid(notebook):
    nbformat.validate(notebook)


def test_executed_top_to_bottom_in_one_session(code_cells):
    assert [cell.execution_count for cell in code_cells] == list(range(1, len(code_cells) + 1))


def test_no_code_cell_ended_in_an_error(code_cells):
    assert not [out for cell in code_cells for out in cell.outputs if out.output_type == "error"]


def test_one_parameters_cell_of_plain_assignments(code_cells):
    tagged = [cell for cell in code_cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    for line in tagged[0].source.splitlines():
        assert re.match(r"^[A-Z_]+ = [^=]+$|^print\(", line), line


def test_the_parameters_cell_holds_the_values_of_settings_py(code_cells):
    """The cell shows the sheet's values as literals; settings.py holds the same (one source
    for the code, and the repository's recording run refuses any other)."""
    [cell] = [cell for cell in code_cells if "parameters" in cell.metadata.get("tags", [])]
    namespace: dict = {}
    exec(cell.source, namespace)  # noqa: S102 (assignments of literals)
    assert {name: namespace[name] for name in settings.COMMITTED} == settings.COMMITTED


def tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def output_text(cell) -> str:
    """Return a code cell's text outputs: streams, plain text and rendered Markdown."""
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts += [out.get("data", {}).get(kind, "") for kind in ("text/plain", "text/markdown")]
    return "".join(parts)


def test_no_check_is_printed_into_the_report(code_cells):
    """Claims are checked by tests/test_claims.py, not printed as 'something: True'."""
    for cell in code_cells:
        assert not re.search(r": (True|False)$", output_text(cell), re.MULTILINE), cell.source[:60]


def test_every_rendering_cell_hides_its_input(code_cells):
    """A cell that only renders (report's figures, tables, wording) shows its result only."""
    for cell in code_cells:
        renders = "plt.show()" in cell.source or cell.source.startswith("display(")
        if renders:
            assert {"remove-input", "remove-cell"} & set(tags(cell)), cell.source[:60]


def test_training_and_evaluation_cells_stay_visible(code_cells):
    visible = [c.source for c in code_cells if not {"remove-input", "remove-cell"} & set(tags(c))]
    for call in (
        "helpers.train_autoencoder(",
        "helpers.measure_codes(",
        "helpers.measure_errors(",
        "runtime.get_device(",
        "helpers.fixed_test_noise(",
        "helpers.sample_indices(",
    ):
        assert any(call in source for source in visible), call


def python_of(cell) -> ast.Module:
    """Return a code cell's syntax tree (IPython's % lines left out)."""
    return ast.parse(
        "\n".join(line for line in cell.source.splitlines() if not line.startswith("%"))
    )


def assigned(tree: ast.AST) -> set[str]:
    """Return the names a piece of code binds (assignments, loops, imports, comprehensions)."""
    names = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }
    return names | {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }


def loaded(tree: ast.AST) -> set[str]:
    """Return the names a piece of code reads."""
    return {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }


def test_no_hidden_cell_computes_what_a_visible_cell_uses(code_cells):
    """A reader of the PDF sees where every value of a visible cell comes from: visible cells
    read only what visible cells bind, the settings of the parameters cell and the modules
    imported at the top; rendering cells bind nothing that another cell reads."""
    hidden = [c for c in code_cells if {"remove-input", "remove-cell"} & set(tags(c))]
    visible = [c for c in code_cells if c not in hidden]
    shown = set().union(*(assigned(python_of(c)) for c in visible))
    imports = {
        alias.asname or alias.name
        for node in ast.walk(python_of(code_cells[0]))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    for cell in visible:
        unknown = {
            name
            for name in loaded(python_of(cell)) - shown - imports
            if not name.isupper() and name not in dir(builtins)
        }
        assert not unknown, f"{cell.source[:50]!r} reads {sorted(unknown)} from hidden cells"
    for cell in hidden:
        if "remove-input" in tags(cell):
            own = assigned(python_of(cell))
            for other in code_cells:
                if other is not cell:
                    read = loaded(python_of(other)) - assigned(python_of(other))
                    assert not own & read, f"{cell.source[:50]!r} binds {sorted(own & read)}"


def test_the_sheets_code_is_listed_from_the_source(code_cells):
    listed = " ".join(c.source for c in code_cells if "report.listing(" in c.source)
    for name in (
        "helpers.Autoencoder",
        "helpers.train_step",
        "helpers.train_epoch",
        "helpers.add_white_noise",
        "helpers.make_optimizer",
        "helpers.Recorder",
        "helpers.tsne_embed",
        "helpers.load_fashion_mnist",
        "helpers.scale_images",
        "helpers.train_autoencoder",
        "helpers.reconstruction_loss",
        "helpers.fixed_test_noise",
        "helpers.encode",
        "helpers.plane_neighbour_votes",
    ):
        assert name in listed, name
    assert "stacked_training" not in listed and "explorer" not in listed


LISTED_MODULES = ("helpers", "report")  # the science and the figures: all the answers reach
REACHED_THROUGH = ("helpers", "report", "tables")  # calls followed through these
LISTING_COLUMNS = 93  # what one line of a listing holds at 9 pt on the PDF's text width
CALLED_AND_LISTED = {  # listed, though outside LISTED_MODULES, and why
    "settings.Training": "the sheet's settings, the defaults of helpers.train_autoencoder",
}
REACHED_NOT_LISTED = {  # reached in LISTED_MODULES, not listed, and why
    "report.save_figure": "writes a figure's PNG file: the figure is plot_*'s",
}


class WithoutAnnotations(ast.NodeTransformer):
    """Drop type annotations: a type named in a signature is not a call."""

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.annotation = None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.returns = None
        return self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign):
        return ast.Expr(node.value) if node.value else None


def references(node: ast.AST, module: str) -> set[str]:
    """Return the names a function's, class's or cell's code uses, as "module.name"."""
    found = set()
    for inner in ast.walk(WithoutAnnotations().visit(copy.deepcopy(node))):
        if isinstance(inner, ast.Name):
            found.add(f"{module}.{inner.id}")
        elif isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name):
            found.add(f"{inner.value.id}.{inner.attr}")
    return found


def definitions() -> dict[str, ast.AST]:
    """Return the functions and classes of the modules followed, by "module.name"."""
    found = {}
    for module in REACHED_THROUGH:
        tree = ast.parse((ROOT / f"{module}.py").read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                found[f"{module}.{node.name}"] = node
    return found


def reached_by(notebook) -> set[str]:
    """Return every function or class that the notebook's shown cells (not `remove-cell`, not
    the listings) call, directly or through the functions they call."""
    cells = [
        ast.parse("\n".join(line for line in cell.source.splitlines() if not line.startswith("%")))
        for cell in notebook.cells
        if cell.cell_type == "code"
        and not {"remove-cell", "listing"} & set(cell.metadata.get("tags", []))
    ]
    known, pending = definitions(), set().union(*(references(cell, "notebook") for cell in cells))
    reached: set[str] = set()
    while pending:
        name = pending.pop()
        if name in known and name not in reached:
            reached.add(name)
            pending |= references(known[name], name.split(".")[0])
    return reached


def listed_in(notebook) -> set[str]:
    """Return the "module.name" of every function and class the listing cells print."""
    listings = [c.source for c in notebook.cells if "listing" in c.metadata.get("tags", [])]
    return set(
        re.findall(
            r"\b((?:helpers|report|tables|settings)\.[A-Za-z_]\w*)\b(?!\s*\()",
            "\n".join(listings),
        )
    )


def test_the_listings_hold_every_function_of_the_science_the_answers_reach_and_no_other(notebook):
    """Every function or class of helpers.py and report.py that a shown cell reaches, directly
    or through what it calls (in tables too), is listed, with the sheet's settings; the tables'
    Markdown layout (tables.py) is left to the ZIP."""
    reached = {name for name in reached_by(notebook) if name.split(".")[0] in LISTED_MODULES}
    reached = (reached | CALLED_AND_LISTED.keys()) - REACHED_NOT_LISTED.keys()
    listed = listed_in(notebook) - {"report.listing", "report.source_lines"}
    assert {
        "helpers.train_autoencoder",
        "helpers.Autoencoder",
        "helpers.add_white_noise",
    } <= reached
    assert reached - listed == set(), "reached but not listed"
    assert listed - reached == set(), "listed but reached by no shown cell"


def test_every_listed_line_fits_the_pdf_s_line(notebook):
    """A longer line would be broken in two on the page: the listings keep to 93 columns."""
    modules = {"helpers": helpers, "report": report, "tables": tables, "settings": settings}
    long = []
    for name in listed_in(notebook) - {"report.listing", "report.source_lines"}:
        module, attribute = name.split(".")
        source = inspect.getsource(getattr(modules[module], attribute))
        long += [f"{name}: {line}" for line in source.splitlines() if len(line) > LISTING_COLUMNS]
    assert long == []


def test_a_run_with_other_settings_opens_with_a_notice_and_writes_elsewhere(code_cells):
    """The notice is decided once, at the top; a differing run (another device included)
    shows it and writes into other-run/. nbval, which runs on the CPU, ignores the notice,
    so the tests pass whatever device the described run was made on."""
    decided = [c for c in code_cells if "report.run_notice(config, " in c.source]
    assert len(decided) == 1 and "remove-cell" in tags(decided[0])
    assert "report.output_folder()" in decided[0].source
    shown = [c for c in code_cells if "display(Markdown(notice))" in c.source]
    assert len(shown) == 1 and {"remove-input", IGNORE} <= set(tags(shown[0]))
    assert code_cells.index(shown[0]) <= 4  # at the top, under the title
    assert not shown[0].outputs  # the committed run needs none
    writes = [
        c.source for c in code_cells if "save_figure(" in c.source or "write_results(" in c.source
    ]
    assert len(writes) >= 5 and all("output / " in source for source in writes)


def test_progress_bars_are_saved_as_finished_text_without_widget_state(notebook, code_cells):
    assert "widgets" not in notebook.metadata
    bars = [
        out["text"]
        for cell in code_cells
        for out in cell.outputs
        if out.output_type == "stream" and "%|" in out.get("text", "")
    ]
    assert len(bars) >= 2
    for bar in bars:  # tqdm's text, its frames merged into the last one (build_report.execute)
        assert re.match(r"100%\|█+\| (\d+)/\1 ", bar), bar
    assert not [
        out
        for cell in code_cells
        for out in cell.outputs
        if "application/vnd.jupyter.widget-view+json" in out.get("data", {})
    ]


def test_kernelspec_matches_the_installed_ipykernel(notebook):
    """JupyterLab rewrites a differing display name on open and the notebook goes dirty."""
    from ipykernel.kernelspec import get_kernel_dict

    installed = get_kernel_dict()
    assert notebook.metadata.kernelspec.display_name == installed["display_name"]
    assert notebook.metadata.kernelspec.name == "python3"


def figure_cells(notebook):
    return [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        and any("image/png" in out.get("data", {}) for out in cell.outputs)
    ]


def caption_of(cell) -> str:
    """Return a markdown cell's text, or the Markdown a code cell renders."""
    return cell.source if cell.cell_type == "markdown" else output_text(cell)


def test_every_figure_has_a_numbered_caption_right_under_it(notebook):
    numbers = []
    for index in figure_cells(notebook):
        match = re.search(r"\*\*Figure (\d+)\.\*\*", caption_of(notebook.cells[index + 1]))
        assert match, notebook.cells[index].source[:60]
        numbers.append(int(match[1]))
    assert numbers == list(range(1, len(numbers) + 1))


def test_every_figure_is_saved_under_figures_and_nothing_else_is(notebook):
    names = set(re.findall(r'"(fig\d\d_[a-z0-9_]+)"', "".join(c.source for c in notebook.cells)))
    saved = {path.stem for path in (ROOT / "figures").glob("fig*.png")}  # companion_*: its own
    assert len(names) == len(figure_cells(notebook))
    assert saved == names


def test_no_absolute_paths_in_the_code(code_cells):
    for cell in code_cells:
        assert not re.search(r"['\"](/|[A-Za-z]:\\)", cell.source), cell.source[:60]


def test_code_lines_fit_the_pdf_text_width(code_cells):
    """A code cell's box in the PDF holds 93 characters at 9.1 pt (a line of 99 wrapped)."""
    assert max(len(line) for cell in code_cells for line in cell.source.splitlines()) <= 93


def test_results_json_holds_the_losses_of_both_models(results):
    epochs, every = results["config"]["EPOCHS"], results["config"]["TEST_EVERY"]
    expected_tests = [str(e) for e in range(every, epochs + 1, every)]
    for name in ("autoencoder", "denoising_autoencoder"):
        model = results[name]
        assert len(model["train_loss"]) == epochs
        assert list(model["test_loss"]) == expected_tests
        assert 3 <= model["live_code_units"] <= 8
    assert results["denoising_autoencoder"]["noise_std"] == results["config"]["NOISE_STD"]


def test_results_match_the_parameters_cell(results, code_cells):
    tagged = next(c for c in code_cells if "parameters" in c.metadata.get("tags", []))
    namespace: dict = {"settings": settings}
    exec(tagged.source.replace("print(", "str("), namespace)  # noqa: S102 (settings.py's values)
    assert results["config"] == {
        **{
            k: v for k, v in namespace.items() if k.isupper() and k != "AUTHORS"
        },  # names: no setting
        "device": "cpu",
    }
    assert results["config"]["EPOCHS"] == settings.SHEET.epochs


BEYOND_THE_SHEET = ("references", "tsne_map")


def numbers_in(value) -> list:
    """Return the leaves of a dict/list of results (None stands for an infinite PSNR); the
    class names of a map's "taken_for" are labels, not numbers."""
    if isinstance(value, dict):
        return [
            leaf for key, item in value.items() if key != "taken_for" for leaf in numbers_in(item)
        ]
    if isinstance(value, list):
        return [leaf for item in value for leaf in numbers_in(item)]
    return [value]


def test_results_json_holds_every_measured_answer_as_named_numbers(results):
    for key in BEYOND_THE_SHEET:
        assert isinstance(results[key], dict) and results[key], key
        assert all(
            leaf is None or isinstance(leaf, (int, float)) for leaf in numbers_in(results[key])
        ), key


def test_measured_answers_are_consistent_with_each_other(results):
    for model in ("autoencoder", "denoising_autoencoder"):
        live = [share > 0 for share in results[model]["unit_activity"]]
        assert sum(live) == results[model]["live_code_units"]


def test_headings_answers_and_captions_start_their_own_paragraphs(notebook):
    """A heading, an **Answer.** or a numbered caption run into the text before it renders as
    plain text in the PDF."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for marker in re.finditer(
                r"#{2,3} |\*\*(?:Answer|(?:Figure|Table|Listing) \d+)\.\*\*", cell.source
            ):
                before = cell.source[: marker.start()]
                assert before == "" or before.endswith("\n\n"), cell.source[
                    max(0, marker.start() - 40) : marker.end()
                ]
