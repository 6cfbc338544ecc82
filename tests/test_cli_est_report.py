"""The EST weekly report on the command line (issue 12), as README's "Command line" documents it:
``template est_report``, ``import FILE --kind est_report [--organisation PARTY]`` and ``est-reports``; exit status
0 on success, 1 on a user error (one line on stderr), 2 on a usage error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trygghetskarta import cli, geography
from trygghetskarta.store import open_store

ROOT = Path(__file__).resolve().parents[1]
ROWS = ("2026-W49;Bro centrum;Skadegörelse (inkl. klotter och brand);3;;;;;\n"
        "2026-W49;Atlantis;klotter;1;;;;;\n"
        "2026-W49;Kungsängen;Otrygghetsskapande samling av personer;2;2026-12-04 22:15;Torget;;;\n")


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    store = open_store(url)
    store.init()
    store.insert("area", geography.shipped_areas())
    store.dispose()
    return url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(args))
    except SystemExit as exc:  # argparse: usage errors
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def _filled_template(capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path) -> Path:
    path = tmp_path / "vecka49.csv"
    code, out, _ = run(capsys, "--db", db, "template", "est_report", "--out", str(path))
    assert code == 0 and f"written to {path}" in out
    with path.open("a", encoding="utf-8") as fh:
        fh.write(ROWS)
    return path


def test_template_import_list_approve_return(capsys, db, tmp_path):
    path = _filled_template(capsys, db, tmp_path)
    code, out, err = run(capsys, "--db", db, "import", str(path), "--kind", "est_report",
                         "--organisation", "Upplands-Brohus")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[-1] == "accepted 2, rejected 1, already present 0"
    assert any(line.startswith("rejected: vecka49.csv row 3: unknown area 'Atlantis'") for line in lines)
    # the same file again adds nothing
    code, out, _ = run(capsys, "--db", db, "import", str(path), "--kind", "est_report", "--organisation",
                       "upplands_brohus")
    assert code == 0 and out.strip().splitlines()[-1] == "accepted 0, rejected 1, already present 2"

    code, out, _ = run(capsys, "--db", db, "est-reports", "--week", "2026-W49")
    assert code == 0
    (line,) = out.strip().splitlines()
    report_id = int(line.split("\t")[0])
    assert re.match(rf"^{report_id}\t2026-W49\tupplands_brohus\tinskickad\t2 lines\t5 events\timport", line)

    code, out, _ = run(capsys, "--db", db, "est-reports", "--week", "v49 2026", "--status", "godkand")
    assert code == 0 and out == ""
    code, out, _ = run(capsys, "--db", db, "est-reports", "--approve", str(report_id))
    assert code == 0 and f"report {report_id}: godkänd" in out
    code, out, _ = run(capsys, "--db", db, "est-reports", "--week", "2026-W49", "--status", "godkand")
    assert code == 0 and out.startswith(f"{report_id}\t")
    code, out, _ = run(capsys, "--db", db, "est-reports", "--return", str(report_id), "--reason", "Fel vecka")
    assert code == 0 and "returnerad" in out
    code, out, _ = run(capsys, "--db", db, "est-reports", "--week", "2026-W49")
    assert out.strip().endswith("reason: Fel vecka")

    store = open_store(db)
    assert store.est_reports(None)["status"].tolist() == ["returnerad"]
    store.dispose()


def test_xlsx_template_round_trip(capsys, db, tmp_path):
    import openpyxl

    path = tmp_path / "mall.xlsx"
    assert run(capsys, "--db", db, "template", "est_report", "--out", str(path))[0] == 0
    book = openpyxl.load_workbook(path)
    sheet = book["EST-rapport"]
    sheet.append(["2026-W49", "Tibble", "bråk", 2, None, "Skolgården", None, None, None])
    sheet.append(["2026-W49", "Råby", "Arrangemang", 1, None, None, None, None, "Luciafirande"])
    book.save(path)
    code, out, _ = run(capsys, "--db", db, "import", str(path), "--kind", "est_report", "--organisation", "polis")
    assert code == 0 and out.strip().splitlines()[-1] == "accepted 2, rejected 0, already present 0"


@pytest.mark.parametrize(("args", "message"), [
    (["est-reports", "--approve", "999"], "no EST report with id 999"),
    (["import", "{file}", "--kind", "est_report"], "say which organisation"),
    (["import", "{file}", "--kind", "est_report", "--organisation", "Brandkåren X"], "unknown organisation"),
    (["import", "{missing}", "--kind", "est_report", "--organisation", "polis"], "no such file"),
    (["template", "est_report", "--out", "{tmp}/mall.pdf"], "written as .csv or .xlsx"),
    (["import", "{file}", "--kind", "finding", "--organisation", "polis"], "only for --kind est_report"),
])
def test_user_errors_exit_1_with_one_line(capsys, db, tmp_path, args, message):
    path = _filled_template(capsys, db, tmp_path)
    filled = [a.format(file=path, missing=tmp_path / "saknas.csv", tmp=tmp_path) for a in args]
    code, _, err = run(capsys, "--db", db, *filled)
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_a_report_cannot_be_approved_twice(capsys, db, tmp_path):
    path = _filled_template(capsys, db, tmp_path)
    run(capsys, "--db", db, "import", str(path), "--kind", "est_report", "--organisation", "polis")
    assert run(capsys, "--db", db, "est-reports", "--approve", "1")[0] == 0
    code, _, err = run(capsys, "--db", db, "est-reports", "--approve", "1")
    assert code == 1 and "report 1 is Godkänd; it cannot become Godkänd" in err


@pytest.mark.parametrize("args", [
    ["est-reports", "--return", "1"],                      # no reason
    ["est-reports", "--reason", "x"],                      # a reason without --return
    ["est-reports", "--approve", "1", "--return", "1", "--reason", "x"],
    ["est-reports", "--week", "2026-W60"],
    ["est-reports", "--status", "klar"],
    ["template", "finding", "--out", "x.csv"],
    ["import", "x.csv", "--kind", "est_reports"],
])
def test_usage_errors_exit_2(capsys, db, args):
    code, _, err = run(capsys, "--db", db, *args)
    assert code == 2 and "usage:" in err


def test_readme_documents_the_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Command line", 1)[1].split("```", 2)[1]
    for needle in ("trygghetskarta template est_report --out FILE.csv|.xlsx",
                   "--kind finding|sighting|incident|area|walk|est_report", "[--organisation PARTY]",
                   "trygghetskarta est-reports --week 2026-W49 [--status inskickad|godkand|returnerad]",
                   "--approve ID", "--return ID --reason TEXT"):
        assert needle in block, needle


def test_template_needs_no_database_and_creates_none(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    for name in ("mall.csv", "mall.xlsx"):
        code, _out, _ = run(capsys, "--db", url, "template", "est_report", "--out", str(tmp_path / name))
        assert code == 0 and (tmp_path / name).stat().st_size > 0
    assert not (tmp_path / "none.sqlite").exists()
