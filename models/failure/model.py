"""The XGBoost model: training, the threshold and risk bands, and its ONNX export."""

from __future__ import annotations

import math

import numpy as np
import onnxmltools
import onnxruntime
from onnxmltools.convert.common.data_types import FloatTensorType
from sklearn.metrics import precision_recall_curve
from xgboost import XGBClassifier

# Moderate trees: the ONNX file is committed, and deeper trees only memorise the few failing GPUs.
# n_jobs is fixed because histogram sums can round differently with another number of threads.
PARAMS = {
    "tree_method": "hist",
    "objective": "binary:logistic",
    "eval_metric": "aucpr",
    "max_depth": 5,
    "learning_rate": 0.05,
    "n_estimators": 600,
    "min_child_weight": 1,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "n_jobs": 2,
}
EARLY_STOPPING_ROUNDS = 50
HIGH_BETA = 1
MEDIUM_BETA = 2
ONNX_OPSET = 15
PARITY_TOLERANCE = 1e-5


class ParityError(Exception):
    """The ONNX export does not score as XGBoost does."""


def fit(x_train, y_train, x_valid, y_valid, seed: int) -> tuple[XGBClassifier, dict]:
    """
    Finds the number of trees by early stopping on the validation GPUs, then trains that many
    again from scratch: the exported model holds no unused trees, and the second run doubles as
    the determinism check (same data and seed, so the same trees and the same probabilities).
    """
    # No scale_pos_weight: reweighting the rare positives would turn the output into a ranking score
    # (a healthy GPU near 0.35 where failures run at 0.2 %), and serving multiplies the output by
    # the cost of an interruption, which needs a probability. The imbalance is met by early stopping
    # on PR-AUC and by choosing the threshold on validation instead of using 0.5.
    params = {**PARAMS, "random_state": seed}
    searched = XGBClassifier(**params, early_stopping_rounds=EARLY_STOPPING_ROUNDS)
    searched.fit(x_train, y_train, eval_set=[(x_valid, y_valid)], verbose=False)
    params["n_estimators"] = searched.best_iteration + 1
    final = XGBClassifier(**params).fit(x_train, y_train)
    if not np.array_equal(searched.predict_proba(x_valid), final.predict_proba(x_valid)):
        raise RuntimeError("training is not deterministic: the same data and seed gave other probabilities")
    return final, {"params": params, "early_stopping_rounds": EARLY_STOPPING_ROUNDS, "best_iteration": searched.best_iteration}


def probabilities(model: XGBClassifier, x) -> np.ndarray:
    return model.predict_proba(x)[:, 1]


def floor6(value: float) -> float:
    """Rounded down to 6 decimals: a short number for the manifest that still alerts on the row it was chosen at."""
    return math.floor(value * 1e6) / 1e6


def best_f_threshold(labels: np.ndarray, scores: np.ndarray, beta: float) -> float:
    """The validation score maximising F-beta (recall counts beta times as much as precision)."""
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    denominator = beta**2 * precision + recall
    f = np.divide((1 + beta**2) * precision * recall, denominator, out=np.zeros_like(precision), where=denominator > 0)
    return floor6(float(thresholds[int(np.argmax(f[:-1]))]))


def risk_bands(labels: np.ndarray, scores: np.ndarray) -> dict:
    """
    HIGH from the F1-maximising validation score (the operating threshold), MEDIUM from the
    F2-maximising one, capped at HIGH: an earlier, less precise warning. A recall target (say
    90 % of positive rows) does not work here: about half the positives, the abrupt faults and
    the first hours of slow ones, look healthy, so reaching it flags most of the fleet.
    """
    high = best_f_threshold(labels, scores, HIGH_BETA)
    return {"medium": min(best_f_threshold(labels, scores, MEDIUM_BETA), high), "high": high}


def to_onnx(model: XGBClassifier, width: int, graph_name: str) -> bytes:
    """ONNX bytes; the graph is named explicitly because the converter's default name is random."""
    converted = onnxmltools.convert_xgboost(
        model, name=graph_name, initial_types=[("features", FloatTensorType([None, width]))], target_opset=ONNX_OPSET
    )
    return converted.SerializeToString()


def onnx_probabilities(onnx_bytes: bytes, x: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    return session.run(["probabilities"], {"features": x})[0][:, 1]


def check_parity(expected: np.ndarray, actual: np.ndarray, threshold: float) -> float:
    """The largest difference; raises when it exceeds the tolerance or a row changes class at the threshold."""
    worst = float(np.max(np.abs(expected.astype(np.float64) - actual.astype(np.float64))))
    flipped = int(np.sum((expected >= threshold) != (actual >= threshold)))
    if worst > PARITY_TOLERANCE or flipped:
        raise ParityError(f"onnxruntime differs from XGBoost by up to {worst:.3g} (tolerance {PARITY_TOLERANCE}), {flipped} rows change class")
    return worst
