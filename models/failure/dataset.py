"""Reads a dataset written by `npx gpumon dataset` and splits it into train/validation/test by GPU."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SPLITS = ("train", "validation", "test")
# The order GPUs of one stratum are dealt in: 60/20/20, and a stratum of only three GPUs already
# reaches every split (dealing train, train, train, validation, test would keep rare fault kinds
# out of the test split).
DEAL = ("train", "validation", "test", "train", "train")

TEXT_COLUMNS = ("gpu_uuid", "hostname", "product_name", "fault_kind")
# Meta columns that may be empty, so float64 (NaN) rather than int64. Epoch ms fit float64 exactly.
NULLABLE_NUMERIC_COLUMNS = ("onset_time", "failure_time", "raw_remapped_rows_pending", "raw_retired_pages_pending")


class DatasetError(Exception):
    """The dataset cannot be trained on as it is: the message says why and what to do."""


@dataclass(frozen=True)
class Dataset:
    frame: pd.DataFrame
    description: dict
    features: list[str]
    path: Path

    @property
    def period_end_ms(self) -> int:
        spec = self.description["spec"]
        return spec["startMs"] + spec["days"] * 86_400_000

    @property
    def horizon_hours(self) -> int:
        return self.description["spec"]["horizonMs"] // 3_600_000


def description_path(csv_path: Path) -> Path:
    """The JSON beside the CSV, named as `gpumon dataset` names it."""
    return csv_path.with_name(re.sub(r"(\.csv)?\.gz$", "", csv_path.name) + ".json")


def load(csv_path: Path) -> Dataset:
    json_path = description_path(csv_path)
    if not csv_path.is_file() or not json_path.is_file():
        raise DatasetError(f"{csv_path} or its description {json_path} is missing: create them with `npx gpumon dataset`")
    description = json.loads(json_path.read_text())
    features = [f["name"] for f in description["features"]]
    columns = list(description["meta_columns"]) + features
    check_header(csv_path, columns)
    frame, sha256, size = read_hashed(csv_path, columns, features)
    check_against_description(csv_path, description, frame, sha256, size)
    frame["fault_kind"] = frame["fault_kind"].fillna("")
    return Dataset(frame=frame, description=description, features=features, path=csv_path)


def check_header(csv_path: Path, columns: list[str]) -> None:
    with gzip.open(csv_path, "rt", encoding="utf-8") as text:
        header = text.readline().rstrip("\n").split(",")
    if header != columns:
        at = next((i for i, (a, b) in enumerate(zip(header, columns)) if a != b), min(len(header), len(columns)))
        raise DatasetError(
            f"{csv_path}: the columns differ from its description's meta_columns + features at column {at} "
            f"(file: {header[at] if at < len(header) else 'none'}, description: {columns[at] if at < len(columns) else 'none'})"
        )


class HashingReader:
    """A binary stream that hashes what is read through it, so the CSV is decompressed only once."""

    def __init__(self, stream):
        self.stream = stream
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.stream.read(n)
        self.hash.update(chunk)
        self.size += len(chunk)
        return chunk

    def drain(self) -> None:
        while self.read(1 << 20):
            pass


def read_hashed(csv_path: Path, columns: list[str], features: list[str]) -> tuple[pd.DataFrame, str, int]:
    dtypes = {name: "float64" for name in features}
    dtypes.update({name: "str" for name in TEXT_COLUMNS})
    dtypes.update({name: "float64" for name in NULLABLE_NUMERIC_COLUMNS})
    dtypes.update({"time": "int64", "label": "int8"})
    with gzip.open(csv_path, "rb") as stream:
        reader = HashingReader(stream)
        # Only an empty cell is missing (NaN): a stray "NA" or "nan" is an error, not a silent NaN.
        # round_trip parsing reads each float32 text back to exactly the float32 the edge computed.
        frame = pd.read_csv(
            reader, dtype=dtypes, na_values=[""], keep_default_na=False, float_precision="round_trip"
        )
        reader.drain()
    return frame, reader.hash.hexdigest(), reader.size


def check_against_description(csv_path: Path, description: dict, frame: pd.DataFrame, sha256: str, size: int) -> None:
    if sha256 != description["sha256"]:
        raise DatasetError(
            f"{csv_path}: the sha256 of its CSV text is {sha256}, its description says {description['sha256']}: "
            "the file was changed or belongs to another description (descriptions without `sha256_of` hash the "
            "gzip bytes instead: regenerate those with `npx gpumon dataset`)"
        )
    counts = {"bytes": size, "rows": len(frame), "positives": int(frame["label"].sum())}
    wrong = {k: (v, description[k]) for k, v in counts.items() if v != description[k]}
    if wrong:
        raise DatasetError(f"{csv_path}: (found, described) differ: {wrong}")


def split_by_gpu(frame: pd.DataFrame, seed: int) -> pd.Series:
    """
    Each GPU's split, keyed by gpu_uuid: all rows of a GPU land in one split, so no test GPU's
    history was seen in training. GPUs are stratified by fault kind when they have positive rows
    (healthy ones form one stratum), and dealt out in the order of sha256(seed:uuid), so the
    split depends on the seed and the GPU alone, not on row order.
    """
    per_gpu = frame.groupby("gpu_uuid", sort=False).agg(positive=("label", "max"), kind=("fault_kind", "first"))
    stratum = per_gpu["kind"].where(per_gpu["positive"] == 1, "")
    order = per_gpu.index.map(lambda uuid: hashlib.sha256(f"{seed}:{uuid}".encode()).hexdigest())
    ranked = pd.DataFrame({"stratum": stratum.to_numpy(), "order": order}, index=per_gpu.index)
    ranked = ranked.sort_values(["stratum", "order"])
    position = ranked.groupby("stratum").cumcount().to_numpy()
    return pd.Series(np.array(DEAL)[position % len(DEAL)], index=ranked.index, name="split")


def split_frames(frame: pd.DataFrame, seed: int) -> dict[str, pd.DataFrame]:
    split_of_gpu = split_by_gpu(frame, seed)
    split_of_row = frame["gpu_uuid"].map(split_of_gpu)
    parts = {name: frame[split_of_row.to_numpy() == name] for name in SPLITS}
    gpus = [set(parts[name]["gpu_uuid"].unique()) for name in SPLITS]
    assert all(not (gpus[i] & gpus[j]) for i in range(3) for j in range(i + 1, 3)), "a GPU is in two splits"
    assert sum(len(p) for p in parts.values()) == len(frame), "a row is in no split"
    return parts
