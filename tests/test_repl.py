"""What an analysis and its results print as at a plain Python prompt: their numbers, as tables,
never `<object at 0x…>` or a dump of their fields; and what completion lists."""

import subprocess
import sys

import pytest

import graphviz_ad
from graphviz_ad.tables import SHOWN_ROWS, Table
from tests.conftest import WORKED, WORKED_VALUES


@pytest.fixture(scope="module")
def worked():
    return graphviz_ad.analyze(WORKED, **WORKED_VALUES)


def test_an_analysis_prints_its_value_gradients_and_size(worked):
    assert repr(worked).splitlines() == [
        "f = (sin(x2)+1)/(x2+exp(x1))+x1*x2 = 1.0469726768804155 · 10 nodes",
        "input  value             gradient",
        "x1       1.5  0.23283374747559749",
        "x2       0.5   1.6165488003791766"]


def test_an_array_output_says_where_its_jacobians_are():
    shown = repr(graphviz_ad.analyze("x * 2", x=[1.0, 2.0]))
    assert shown.splitlines()[0] == "f = x * 2 = [2.0, 4.0] · 3 nodes"
    assert shown.splitlines()[-1] == \
        "the output is an array: analysis.gradient(name) gives each Jacobian"


def test_paths_print_as_the_rows_of_gad_paths(worked):
    assert repr(worked.paths("x2")).splitlines() == [
        "paths from x2 to f: 3",
        "#  path                      local gradients along it                product",
        "1  x2 → * → +                1.5 · 1                                     1.5",
        "2  x2 → sin → + → / → +      0.877583 · 1 · 0.200735 · 1        0.1761616491",
        "3  x2 → + → / → +            1 · -0.0596128 · 1               -0.05961284871",
        "   gradient (backward pass)                               1.6165488003791766"]
    assert repr(worked.paths("x2", top=1)).splitlines()[3:] == [
        "   the other 2 paths                                         0.1165488004",
        "   gradient (backward pass)                            1.6165488003791766"]


def test_reports_print_as_tables(worked):
    report = repr(worked.gradient_report()).splitlines()
    assert report[0] == "f = 1.0469726768804155"
    assert report[2].split() == ["x1", "1.5", "0.23283374747559749", "0.23283374746929342",
                                 "6.3e-12", "✓"]
    assert repr(worked.check("x2")).splitlines()[2].endswith("4.7e-12 ✓")
    hessian = repr(worked.hessian()).splitlines()
    assert hessian[2].split() == ["x1", "0.21353660026144577", "0.9487785711446157"]
    derivatives = repr(graphviz_ad.analyze("tanh(x)", x=1.0).higher(2)).splitlines()
    assert derivatives[3].split()[:3] == ["d²f/dx²", "-0.6397000084492246", "10"]
    trace = repr(worked.trace()).splitlines()
    assert trace[0] == "trace (reverse mode): 9 evaluation steps, 11 adjoint updates"
    assert ["v1", "=", "sin(x2)", "0.4794"] in [line.split() for line in trace]
    assert trace[-2].split() == ["adj(x2)", "+=", "adj(v1)", "·", "cos(x2)", "0.1762", "1.617"]


def test_drawings_and_pictures_print_what_they_are_not_their_bytes(worked):
    drawing = worked.draw("dot", wrt="x2")
    assert repr(drawing) == f"Drawing: {len(drawing.data):,} bytes, 10 nodes"
    assert repr(worked.picture(wrt="x2")) == \
        "Picture of f: 10 boxes, 12 edges, the paths from x2 coloured (3)"
    assert repr(worked.graph) == "AnnotatedGraph: 10 nodes, inputs x1, x2"
    assert "AnnotatedGraph: 10 nodes" in repr(worked.plan("svg"))  # not its every tuple
    for shown in (worked, worked.paths("x1"), worked.trace(), drawing):
        assert " at 0x" not in repr(shown) and "(name=" not in repr(shown)


def test_a_long_table_is_cut_saying_where_the_rest_is():
    table = Table("steps", ("n",), tuple((str(row),) for row in range(SHOWN_ROWS + 5)),
                  more="gad trace prints every step")
    lines = table.text().splitlines()
    assert len(lines) == SHOWN_ROWS + 3 and lines[-1] == "… 5 more rows: gad trace prints every step"
    assert table.html().count("<tr>") == SHOWN_ROWS + 1
    assert "&lt;b&gt;" in Table("<b>", ("a",), (("1",),)).html()  # text stays text


def test_completion_lists_the_public_names_and_importing_stays_light():
    public = [name for name in dir(graphviz_ad) if not name.startswith("_")]
    assert public == sorted(graphviz_ad.__all__)
    loaded = subprocess.run([sys.executable, "-c", "import sys, graphviz_ad; dir(graphviz_ad); "
                             "print('numpy' in sys.modules)"], capture_output=True, text=True)
    assert loaded.stdout.strip() == "False"


def test_show_names_its_two_views(worked):
    from graphviz_ad.errors import UsageError

    with pytest.raises(UsageError) as raised:
        worked.show("slides")
    assert raised.value.hint == "use 'picture' or 'page'"
