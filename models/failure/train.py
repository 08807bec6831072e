"""
Trains the GPU failure model on a `gpumon dataset` and writes model.onnx, manifest.json,
parity.json and QUALITY.md; with --check, retrains and compares with the committed manifest
instead, writing nothing. See README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

import artifacts
import dataset
import model
import quality

HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=Path("data/dataset.csv.gz"), help="the .csv.gz of `npx gpumon dataset`, its .json beside it (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the split and of XGBoost (default: %(default)s; --check uses the manifest's)")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder to write the model into (default: models/failure)")
    parser.add_argument("--name", default="gpu-failure", help="model name (default: %(default)s)")
    parser.add_argument("--version", default="1.0.0", help="model version; a retrained model needs a new one (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="retrain as the committed manifest.json says and compare; writes nothing, exits 1 on a difference")
    args = parser.parse_args(argv)
    # Relative paths are relative to models/failure, wherever the script is run from.
    args.dataset, args.out = HERE / args.dataset, HERE / args.out
    return args


@contextmanager
def timed(step: str):
    started = time.perf_counter()
    yield
    print(f"[train] {step}: {time.perf_counter() - started:.1f} s", file=sys.stderr)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def train(args: argparse.Namespace) -> tuple[dict, bytes, dict]:
    """Everything a run produces: the manifest, the ONNX bytes and the parity vectors."""
    with timed("load"):
        ds = dataset.load(args.dataset)
        parts = dataset.split_frames(ds.frame, args.seed)
        x = {name: part[ds.features].to_numpy(np.float32) for name, part in parts.items()}
        y = {name: part["label"].to_numpy() for name, part in parts.items()}
    with timed("train"):
        classifier, training = model.fit(x["train"], y["train"], x["validation"], y["validation"], args.seed)
        valid = model.probabilities(classifier, x["validation"])
        bands = model.risk_bands(y["validation"], valid)
        high = bands["high"]
    with timed("export"):
        onnx_bytes = model.to_onnx(classifier, len(ds.features), f"{args.name}-{args.version}")
        test = model.probabilities(classifier, x["test"])
        worst = model.check_parity(test, model.onnx_probabilities(onnx_bytes, x["test"]), high)
    with timed("evaluate"):
        metrics = {
            "split": "test",
            "model": quality.evaluate(parts["test"], test, high, ds.period_end_ms),
            "baseline": quality.evaluate(parts["test"], quality.baseline_scores(parts["test"]), quality.BASELINE_THRESHOLD, ds.period_end_ms),
            # Serving prices failures by the output, so it must be a probability: mean output against the positive rate.
            "calibration": {"mean_probability": float(test.mean()), "positive_rate": float(y["test"].mean())},
        }
        metrics["targets"] = quality.targets(metrics["model"], metrics["baseline"])
        validation = {
            "high": quality.evaluate(parts["validation"], valid, high, ds.period_end_ms),
            "medium": quality.evaluate(parts["validation"], valid, bands["medium"], ds.period_end_ms),
        }
        picked = artifacts.parity_indices(y["test"], test, np.isnan(x["test"]).any(axis=1), high, args.seed)
        parity = artifacts.parity_document(ds.features, high, x["test"][picked], test[picked])
    manifest = {
        "name": args.name,
        "version": args.version,
        "onnx_file": "model.onnx",
        "sha256": sha256(onnx_bytes),
        "input": "features",
        "output": "probabilities",
        "output_column": 1,
        "features": artifacts.feature_entries(ds.description, parts["train"]),
        "horizon_hours": ds.horizon_hours,
        "threshold": high,
        "risk_bands": bands,
        "dataset": artifacts.dataset_summary(ds),
        "split": artifacts.split_summary(parts, ds.period_end_ms),
        "training": {
            **training,
            "seed": args.seed,
            "threshold_choice": "high (= threshold): the validation score maximising F1; medium: the one maximising F2, capped at high",
            "validation_at_threshold": {band: {k: m[k] for k in ("precision", "recall", "recall_gradual")} for band, m in validation.items()},
            "onnx": {"opset": model.ONNX_OPSET, "bytes": len(onnx_bytes), "parity_max_abs_diff_on_test": f"{worst:.1e}"},
            "libraries": artifacts.library_versions(),
        },
        "metrics": metrics,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return artifacts.rounded(manifest), onnx_bytes, parity


def write(out: Path, manifest: dict, onnx_bytes: bytes, parity: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.onnx").write_bytes(onnx_bytes)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    (out / "parity.json").write_text(json.dumps(parity) + "\n")
    (out / "QUALITY.md").write_text(artifacts.quality_markdown(manifest))


def check(out: Path, manifest: dict, onnx_bytes: bytes, parity: dict) -> int:
    """Compares a rerun with the committed files; 0 when it reproduced them."""
    committed = json.loads((out / "manifest.json").read_text())
    problems = artifacts.differences(
        {k: v for k, v in committed.items() if k != "trained_at"}, {k: v for k, v in manifest.items() if k != "trained_at"}
    )
    committed_onnx = (out / "model.onnx").read_bytes()
    if committed_onnx != onnx_bytes:
        problems.append(onnx_difference(committed_onnx, onnx_bytes, parity))
    if problems:
        print("not reproduced:\n" + "\n".join(f"  {p}" for p in problems))
        return 1
    print("reproduced")
    return 0


def onnx_difference(committed: bytes, current: bytes, parity: dict) -> str:
    """Whether different ONNX bytes at least score the same, on the parity rows."""
    x = np.array([[np.nan if v is None else v for v in row["features"]] for row in parity["rows"]], dtype=np.float32)
    same = np.array_equal(model.onnx_probabilities(committed, x), model.onnx_probabilities(current, x))
    verdict = "but gives identical probabilities on the parity rows" if same else "and gives other probabilities"
    return f"model.onnx: the committed file ({sha256(committed)}) differs from the retrained one ({sha256(current)}) {verdict}"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.check:
        if not (args.out / "manifest.json").is_file():
            print(f"train.py: --check compares with {args.out / 'manifest.json'}, which does not exist: train first", file=sys.stderr)
            return 2
        committed = json.loads((args.out / "manifest.json").read_text())
        args.seed, args.name, args.version = committed["training"]["seed"], committed["name"], committed["version"]
    try:
        manifest, onnx_bytes, parity = train(args)
    except (dataset.DatasetError, model.ParityError) as error:
        print(f"train.py: {error}", file=sys.stderr)
        return 2
    print(artifacts.quality_markdown(manifest))
    if args.check:
        return check(args.out, manifest, onnx_bytes, parity)
    write(args.out, manifest, onnx_bytes, parity)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
