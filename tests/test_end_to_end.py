"""End to end: the real CLI on a generated city, scored per finding code against its truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.synth.evaluation import evaluate_run, table

AS_OF = "2026-10-31"
OUTPUTS = ("findings.csv", "remove_list.csv", "add_list.csv")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    assert main(["synth", "--households", "2000", "--seed", "5", "--out", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def audit(city: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("out") / AS_OF
    assert main(["run", "--input", str(city), "--output", str(output), "--as-of", AS_OF]) == 0
    return output


@pytest.mark.slow
def test_every_code_is_found_with_high_precision_and_recall(city: Path, audit: Path) -> None:
    scores = evaluate_run(audit, city)
    report = table(scores)
    for score in scores:
        assert score.truth > 0 or score.code == "ALL", f"{score.code}: no truth\n{report}"
        assert score.precision >= 0.9, f"{score.code} precision\n{report}"
        assert score.recall >= 0.9, f"{score.code} recall\n{report}"
    assert scores[-1].f1 >= 0.97, report


@pytest.mark.slow
def test_manifest_counts_add_up_and_name_every_check(city: Path, audit: Path) -> None:
    manifest = json.loads((audit / "manifest.json").read_text(encoding="utf-8"))
    for dataset, counts in manifest["inputs"].items():
        assert counts["input_rows"] == counts["loaded_rows"] + counts["quarantined_rows"], dataset
    truth = json.loads((city / "truth" / "summary.json").read_text(encoding="utf-8"))
    for dataset, rows in truth["rows"].items():
        assert manifest["inputs"][dataset]["input_rows"] == rows, dataset
    quarantined = {d: c["quarantined_rows"] for d, c in manifest["inputs"].items()
                   if c["quarantined_rows"]}
    assert quarantined == {d: n for d, n in truth["quarantine"].items() if n}
    assert {c["finding_code"] for c in manifest["checks"]} >= {
        "DECEASED", "ADD_CANDIDATE", "APPROVER_CONFLICT"}
    assert all(c["status"] == "ran" for c in manifest["checks"])


@pytest.mark.slow
def test_rerun_gives_byte_identical_outputs(city: Path, audit: Path, tmp_path: Path) -> None:
    again = tmp_path / AS_OF
    assert main(["run", "--input", str(city), "--output", str(again), "--as-of", AS_OF]) == 0
    for name in OUTPUTS:
        assert (audit / name).read_bytes() == (again / name).read_bytes(), name


@pytest.mark.slow
@pytest.mark.parametrize("resources", [
    # a big enough input is ingested and linked in two processes side by side (this small
    # city, in one, unless told)
    "workers: 2",
    # registers of more than 1,500 records linked in partitions, two at a time, then merged:
    # every record's links, and the probabilities measured over each whole dataset, as in one
    "workers: 2\n  partition_records: 1500",
])
def test_worker_processes_and_partitions_give_the_same_outputs(
        city: Path, audit: Path, tmp_path: Path, resources: str) -> None:
    config = tmp_path / "resources.yaml"
    config.write_text(f"resources:\n  {resources}\n", encoding="utf-8")
    other = tmp_path / "other" / AS_OF
    assert main(["run", "--input", str(city), "--output", str(other), "--as-of", AS_OF,
                 "--config", str(config)]) == 0
    for name in (*OUTPUTS, "changes.csv", "summary_by_street.csv"):
        assert (audit / name).read_bytes() == (other / name).read_bytes(), name
    linkage = [json.loads((d / "manifest.json").read_text(encoding="utf-8"))["linkage"]
               for d in (audit, other)]
    pieces = {s["dataset"]: s["pieces"] for s in linkage[1]}
    if "partition_records" in resources:
        assert pieces["property"] > 2 and pieces["vehicles"] > 1, pieces
    else:
        assert set(pieces.values()) == {1}, pieces
    for stats in linkage:
        for dataset in stats:
            dataset.pop("seconds")
            dataset.pop("pieces")
    assert linkage[0] == linkage[1]


@pytest.mark.slow
def test_missing_dataset_skips_its_checks_and_says_why(city: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    for path in city.iterdir():
        if path.is_file() and not path.name.startswith("vehicles."):
            (partial / path.name).write_bytes(path.read_bytes())
    output = tmp_path / "out" / AS_OF
    assert main(["run", "--input", str(partial), "--output", str(output), "--as-of", AS_OF]) == 0
    manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    vehicle = next(c for c in manifest["checks"] if c["finding_code"] == "VEHICLE")
    assert vehicle["status"] == "skipped" and "vehicles" in vehicle["reason"]
