"""What training writes beside the model: the manifest, the parity vectors and the quality table."""

from __future__ import annotations

import math
import platform
from importlib.metadata import version

import numpy as np
import pandas as pd

from quality import ABRUPT_KINDS, BASELINE_RULES, GRADUAL_KINDS

DECIMALS = 6
LIBRARIES = ("xgboost-cpu", "onnx", "onnxmltools", "onnxruntime", "scikit-learn", "numpy", "pandas")
PARITY_POSITIVES = 100
PARITY_NEAREST = 100
PARITY_RANDOM = 100


def rounded(value):
    """Floats to DECIMALS places (NaN to null), recursively, so a rerun's numbers compare exactly."""
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else round(float(value), DECIMALS)
    if isinstance(value, np.integer):
        return int(value)
    return value


def float32_number(value) -> float | None:
    """The shortest decimal that reads back as the same float32, as the serving side reads it; NaN is null."""
    value = np.float32(value)
    return None if np.isnan(value) else float(str(value))


def feature_entries(description: dict, train: pd.DataFrame) -> list[dict]:
    """
    The model's inputs in order, each with its reference: the median over the train split's
    negative rows, what a healthy GPU shows. Serving replaces one feature by it to estimate how
    much that feature pushed a score up.
    """
    healthy = train[train["label"] == 0]
    entries = []
    for feature in description["features"]:
        median = healthy[feature["name"]].median()
        entries.append({
            "name": feature["name"], "unit": feature["unit"], "description": feature["description"],
            "reference": float32_number(median),
        })
    return entries


def split_summary(parts: dict[str, pd.DataFrame], period_end_ms: int) -> dict:
    return {
        name: {
            "gpus": int(part["gpu_uuid"].nunique()),
            "rows": len(part),
            "positives": int(part["label"].sum()),
            "failed_gpus": int(part.loc[part["failure_time"] < period_end_ms, "gpu_uuid"].nunique()),
        }
        for name, part in parts.items()
    }


def dataset_summary(ds) -> dict:
    d = ds.description
    return {
        "file": ds.path.name, "sha256": d["sha256"], "sha256_of": d.get("sha256_of"), "rows": d["rows"],
        "positives": d["positives"], "gpus": int(ds.frame["gpu_uuid"].nunique()), "failures": d["failures"], "spec": d["spec"],
    }


def library_versions() -> dict:
    return {"python": platform.python_version(), **{name: version(name) for name in LIBRARIES}}


def parity_indices(labels: np.ndarray, scores: np.ndarray, missing: np.ndarray, threshold: float, seed: int) -> np.ndarray:
    """
    Test rows for the serving side's parity test: positives, the rows nearest the threshold (where
    a rounding difference would change the class), and random rows, half of them with a missing
    value, so NaN routing is exercised.
    """
    rng = np.random.default_rng(seed)
    positives = np.flatnonzero(labels == 1)
    chosen = set(rng.choice(positives, min(PARITY_POSITIVES, len(positives)), replace=False).tolist())
    by_distance = np.argsort(np.abs(scores.astype(np.float64) - threshold), kind="stable")
    chosen.update(by_distance[~np.isin(by_distance, list(chosen))][:PARITY_NEAREST].tolist())
    for pool in (np.flatnonzero(missing), np.arange(len(labels))):
        pool = np.setdiff1d(pool, list(chosen))
        chosen.update(rng.choice(pool, min(PARITY_RANDOM // 2, len(pool)), replace=False).tolist())
    return np.array(sorted(chosen))


def parity_document(features: list[str], threshold: float, x: np.ndarray, probabilities: np.ndarray) -> dict:
    return {
        "features": features,
        "threshold": threshold,
        "rows": [
            {"features": [float32_number(v) for v in row], "probability": float(p)} for row, p in zip(x, probabilities)
        ],
    }


def differences(committed, current, path: str = "") -> list[str]:
    """Where two manifests differ, as `path: committed → current` lines."""
    if isinstance(committed, dict) and isinstance(current, dict):
        return [
            line
            for key in sorted(set(committed) | set(current))
            for line in differences(committed.get(key), current.get(key), f"{path}.{key}" if path else key)
        ]
    return [] if committed == current else [f"{path}: {committed!r} → {current!r}"]


def number(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def lead_cell(summary: dict) -> str:
    median = summary["median_hours"]
    return f"{summary['caught']}/{summary['failures']}" + ("" if median is None else f", {median:.1f} h")


def quality_markdown(manifest: dict) -> str:
    """The model against the rule baseline on the test GPUs, as committed in QUALITY.md."""
    model, baseline, goals = manifest["metrics"]["model"], manifest["metrics"]["baseline"], manifest["metrics"]["targets"]
    test = manifest["split"]["test"]
    rows = [
        ("ROC-AUC", "roc_auc"), ("PR-AUC (average precision)", "pr_auc"),
        ("PR-AUC, gradual faults only", "pr_auc_gradual"), ("PR-AUC, abrupt faults only", "pr_auc_abrupt"),
        ("precision at the threshold", "precision"), ("recall at the threshold", "recall"),
        ("recall, gradual faults' rows", "recall_gradual"), ("recall, abrupt faults' rows", "recall_abrupt"),
        ("precision in the top 1 % of GPU-days", "precision_top_1pct_gpu_days"),
    ]
    kinds = [k for k in (*GRADUAL_KINDS, "gradual", *ABRUPT_KINDS, "abrupt") if k in model["lead_time"]]
    lines = [
        f"# Quality of {manifest['name']} {manifest['version']}",
        "",
        "Written by train.py from manifest.json's metrics; see README.md for what they mean.",
        "",
        f"Model `{manifest['name']}` {manifest['version']} on the test split: {test['gpus']} GPUs never seen in training, "
        f"{test['rows']} hourly rows, {test['positives']} positive (failure within {manifest['horizon_hours']} h), "
        f"{test['failed_gpus']} GPUs failed. Threshold {manifest['threshold']} (HIGH), MEDIUM from {manifest['risk_bands']['medium']}; "
        f"the baseline alerts when any of its {len(BASELINE_RULES)} rules fires.",
        "",
        "| metric | model | baseline |",
        "| --- | ---: | ---: |",
        *[f"| {label} | {number(model[key])} | {number(baseline[key])} |" for label, key in rows],
        "",
        "Lead time: failures with an alert within the horizon before them / failures, median hours from the first such alert to the failure.",
        "",
        "| fault kind | model | baseline |",
        "| --- | ---: | ---: |",
        *[f"| {'**' + k + '**' if k in ('gradual', 'abrupt') else k} | {lead_cell(model['lead_time'][k])} | {lead_cell(baseline['lead_time'][k])} |" for k in kinds],
        "",
        f"Calibration: the mean output on the test rows is {number(manifest['metrics']['calibration']['mean_probability'], 4)}, "
        f"their positive rate {number(manifest['metrics']['calibration']['positive_rate'], 4)}: the output is a "
        "probability (no class reweighting), so probability × interruption cost is an expected cost.",
        "",
        f"Targets: PR-AUC ≥ 2× the baseline's: {number(goals['pr_auc_ratio'], 2)}× ({'met' if goals['pr_auc_ratio_met'] else 'missed'}); "
        f"median lead time ≥ 6 h on gradual faults: {number(goals['gradual_median_lead_hours'], 1)} h "
        f"({'met' if goals['gradual_median_lead_met'] else 'missed'}).",
    ]
    return "\n".join(lines) + "\n"
