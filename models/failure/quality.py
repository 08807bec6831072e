"""How well a score predicts failures on held-out GPUs, for the model and the rule-based baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

# Abrupt faults give next to no warning in the simulator (GSP error ~5 min, fall off the bus ~1 min
# before failure), so with hourly rows they are reported apart from the gradual ones.
ABRUPT_KINDS = ("gsp_error", "fall_off_bus")
GRADUAL_KINDS = ("thermal_cooling", "ecc_storm", "row_remap_failure", "power_brake", "pcie_degradation")
TOP_GPU_DAYS = 0.01

# What an operator would alert on without a model: each rule is one point of the baseline score.
BASELINE_RULES = {
    "double-bit ECC error in 24 h": lambda f: f["ecc_dbe_increase_24h"] > 0,
    "remap or retirement pending": lambda f: (f["raw_remapped_rows_pending"] == 1) | (f["raw_retired_pages_pending"] == 1),
    "row remapped for an uncorrectable error in 24 h": lambda f: f["remapped_rows_uncorrectable_increase_24h"] > 0,
    "within 3 °C of slowdown": lambda f: f["slowdown_margin_c"] <= 3,
}
BASELINE_THRESHOLD = 1  # any rule fires


def baseline_scores(frame: pd.DataFrame) -> np.ndarray:
    """Number of rules that fire (a comparison with NaN is False: a missing reading fires nothing)."""
    return sum(rule(frame).to_numpy(dtype=np.int64) for rule in BASELINE_RULES.values())


def evaluate(frame: pd.DataFrame, scores: np.ndarray, threshold: float, period_end_ms: int) -> dict:
    """All quality numbers of one score on one split's rows; `frame` carries the label and ground truth."""
    labels = frame["label"].to_numpy()
    kinds = frame["fault_kind"].to_numpy()
    alert = scores >= threshold
    abrupt = np.isin(kinds, ABRUPT_KINDS)
    negatives = labels == 0
    return {
        "roc_auc": roc_auc_score(labels, scores),
        "pr_auc": average_precision_score(labels, scores),
        # One kind's positives against all negatives: the rows of the other kinds' positives are left out.
        "pr_auc_gradual": average_precision_score(labels[~abrupt | negatives], scores[~abrupt | negatives]),
        "pr_auc_abrupt": average_precision_score(labels[abrupt | negatives], scores[abrupt | negatives]),
        "precision": precision(labels, alert),
        "recall": recall(labels, alert),
        "recall_gradual": recall(labels[~abrupt], alert[~abrupt]),
        "recall_abrupt": recall(labels[abrupt], alert[abrupt]),
        "precision_top_1pct_gpu_days": precision_top_gpu_days(frame, scores, TOP_GPU_DAYS),
        "lead_time": lead_times(frame, alert, period_end_ms),
    }


def precision(labels: np.ndarray, alert: np.ndarray) -> float | None:
    return float(labels[alert].mean()) if alert.any() else None


def recall(labels: np.ndarray, alert: np.ndarray) -> float | None:
    positive = labels == 1
    return float(alert[positive].mean()) if positive.any() else None


def precision_top_gpu_days(frame: pd.DataFrame, scores: np.ndarray, share: float) -> float:
    """
    Precision among the top `share` of GPU-days (UTC) by their highest score, a day counting as
    positive when any of its rows is. Ties at the cut count with their mean label, as a random
    order among them would on average: the baseline's few distinct scores would otherwise be
    judged by an arbitrary tie-break.
    """
    days = pd.DataFrame({
        "gpu": frame["gpu_uuid"].to_numpy(), "day": frame["time"].to_numpy() // 86_400_000,
        "score": scores, "label": frame["label"].to_numpy(),
    }).groupby(["gpu", "day"]).max()
    k = max(1, round(share * len(days)))
    cut = np.sort(days["score"].to_numpy())[::-1][k - 1]
    above = days[days["score"] > cut]
    at_cut = days[days["score"] == cut]
    return float((above["label"].sum() + (k - len(above)) * at_cut["label"].mean()) / k)


def lead_times(frame: pd.DataFrame, alert: np.ndarray, period_end_ms: int) -> dict:
    """
    Per fault kind, over the GPUs that failed within the period: how many had an alert within the
    horizon before failing (a positive row at or above the threshold), and the median hours from
    the first such alert to the failure. Also for gradual and abrupt kinds taken together.
    """
    rows = frame.loc[frame["label"].to_numpy() == 1, ["gpu_uuid", "fault_kind", "time", "failure_time"]]
    rows = rows.assign(alert=alert[frame["label"].to_numpy() == 1])
    rows = rows[rows["failure_time"] < period_end_ms]
    per_gpu = rows.groupby("gpu_uuid").agg(kind=("fault_kind", "first"), failure=("failure_time", "first"))
    first_alert = rows[rows["alert"]].groupby("gpu_uuid")["time"].min()
    per_gpu["lead_hours"] = (per_gpu["failure"] - first_alert.reindex(per_gpu.index)) / 3_600_000
    groups = {kind: per_gpu[per_gpu["kind"] == kind] for kind in sorted(per_gpu["kind"].unique())}
    groups["gradual"] = per_gpu[per_gpu["kind"].isin(GRADUAL_KINDS)]
    groups["abrupt"] = per_gpu[per_gpu["kind"].isin(ABRUPT_KINDS)]
    return {name: lead_summary(group["lead_hours"]) for name, group in groups.items()}


def lead_summary(lead_hours: pd.Series) -> dict:
    caught = lead_hours.dropna()
    return {
        "failures": int(len(lead_hours)),
        "caught": int(len(caught)),
        "median_hours": float(caught.median()) if len(caught) else None,
    }


def targets(model: dict, baseline: dict) -> dict:
    """The issue's targets: PR-AUC at least twice the baseline's, gradual faults caught ≥ 6 h ahead."""
    ratio = model["pr_auc"] / baseline["pr_auc"] if baseline["pr_auc"] > 0 else None
    lead = model["lead_time"]["gradual"]["median_hours"]
    return {
        "pr_auc_ratio": ratio,
        "pr_auc_ratio_met": ratio is not None and ratio >= 2,
        "gradual_median_lead_hours": lead,
        "gradual_median_lead_met": lead is not None and lead >= 6,
    }
