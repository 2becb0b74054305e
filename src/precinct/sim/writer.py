"""Streaming writers for the read files (Parquet, optionally CSV) and the small CSV tables.

Reads are written a chunk at a time; nothing holds more than one simulated day of reads. Output is
deterministic: same arrays in, same bytes out (fixed row-group size, no wall-clock metadata).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

READS_SCHEMA = pa.schema(
    [
        ("plate", pa.string()),
        ("ts", pa.timestamp("ms", tz="UTC")),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("camera_id", pa.string()),
        ("read_id", pa.int64()),
        ("kind", pa.string()),
        ("confidence", pa.float32()),
    ]
)
ROW_GROUP = 1_000_000
LOCAL_OFFSET = "+08:00"


def _parquet_writer(path: Path) -> pq.ParquetWriter:
    # Dictionary pages only where values repeat a lot (cameras, kinds): a county's plates are
    # too many for a useful dictionary, and building one costs more than the whole write.
    # Time-sorted timestamps and sequential ids compress best as deltas.
    return pq.ParquetWriter(
        path,
        READS_SCHEMA,
        compression="zstd",
        write_statistics=True,
        use_dictionary=["camera_id", "kind"],
        column_encoding={"ts": "DELTA_BINARY_PACKED", "read_id": "DELTA_BINARY_PACKED"},
    )


def string_array(values: Sequence[str]) -> pa.Array:
    """A pyarrow string array built from its buffers (``pa.array`` on a long list is slow)."""
    encoded = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum(np.fromiter((len(b) for b in encoded), dtype=np.int32, count=len(encoded)), out=offsets[1:])
    data = b"".join(encoded)
    return pa.StringArray.from_buffers(len(encoded), pa.py_buffer(offsets), pa.py_buffer(data))


class ReadsWriter:
    """Writes reads to ``reads.parquet`` (and ``reads.csv`` on request), chunk by chunk.

    Parameters
    ----------
    out
        Output directory.
    start_utc_ms
        UTC epoch milliseconds of the period start (``ts`` arrays are relative to it).
    ids, kinds
        The identifier table (plate or tag strings) and each one's kind.
    camera_id, camera_lat, camera_lon
        The camera table.
    csv
        Also write ``reads.csv`` (timestamps in local time with offset).
    single_file
        Open ``reads.parquet`` for :meth:`write`; ``False`` for a writer used only through
        :meth:`write_file` (one file per day).
    """

    def __init__(
        self,
        out: Path,
        *,
        start_utc_ms: int,
        ids: Sequence[str],
        kinds: Sequence[str],
        camera_id: Sequence[str],
        camera_lat: np.ndarray,
        camera_lon: np.ndarray,
        csv: bool = False,
        single_file: bool = True,
    ) -> None:
        self.start_ms = start_utc_ms
        self.ids = string_array(ids)
        # Kinds as small codes: taking from a two-entry array is far cheaper than from a long one.
        self.kind_names = pa.array(["plate", "tag"], type=pa.string())
        self.kind_code = np.array([0 if k == "plate" else 1 for k in kinds], dtype=np.int8)
        self.cam_ids = pa.array(camera_id, type=pa.string())
        self.cam_lat = np.asarray(camera_lat, dtype=np.float64)
        self.cam_lon = np.asarray(camera_lon, dtype=np.float64)
        self.next_id = 1
        self.rows = 0
        self.pq = _parquet_writer(out / "reads.parquet") if single_file else None
        self.csv_path = out / "reads.csv" if csv else None
        self.csv: pacsv.CSVWriter | None = None

    def write(self, ts: np.ndarray, ids: np.ndarray, cam: np.ndarray, conf: np.ndarray) -> None:
        """Append a time-sorted chunk (``ts`` in ms from the period start)."""
        if ts.size == 0:
            return
        table = self.table(ts, ids, cam, conf)
        assert self.pq is not None, "a day-file writer writes with write_file"
        for off in range(0, table.num_rows, ROW_GROUP):
            self.pq.write_table(table.slice(off, ROW_GROUP), row_group_size=ROW_GROUP)
        if self.csv_path is not None:
            self._write_csv(table)

    def write_file(self, path: Path, ts: np.ndarray, ids: np.ndarray, cam: np.ndarray, conf: np.ndarray) -> None:
        """Write a time-sorted chunk as one complete Parquet file (via a temporary name, so a file
        under ``path`` is always whole); read ids continue from the previous chunk."""
        table = self.table(ts, ids, cam, conf)
        tmp = path.with_name(path.name + ".tmp")
        w = _parquet_writer(tmp)
        try:
            for off in range(0, table.num_rows, ROW_GROUP):
                w.write_table(table.slice(off, ROW_GROUP), row_group_size=ROW_GROUP)
        finally:
            w.close()
        os.replace(tmp, path)

    def table(self, ts: np.ndarray, ids: np.ndarray, cam: np.ndarray, conf: np.ndarray) -> pa.Table:
        """The Arrow table of a time-sorted chunk; assigns the next ``read_id`` values."""
        n = ts.size
        id_idx = pa.array(ids)
        table = pa.Table.from_arrays(
            [
                self.ids.take(id_idx),
                pa.array(ts + self.start_ms, type=pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
                pa.array(self.cam_lat[cam]),
                pa.array(self.cam_lon[cam]),
                self.cam_ids.take(pa.array(cam)),
                pa.array(np.arange(self.next_id, self.next_id + n, dtype=np.int64)),
                self.kind_names.take(pa.array(self.kind_code[ids])),
                pa.array(conf.astype(np.float32)),
            ],
            schema=READS_SCHEMA,
        )
        self.next_id += n
        self.rows += n
        return table

    def _write_csv(self, table: pa.Table) -> None:
        local = pc.strftime(table["ts"].cast(pa.timestamp("ms", tz=LOCAL_OFFSET)), format="%Y-%m-%dT%H:%M:%S")
        ts_text = pc.binary_join_element_wise(local, pa.scalar(LOCAL_OFFSET), "")
        conf = pc.round(table["confidence"].cast(pa.float64()), 3)
        t = table.set_column(1, "ts", ts_text).set_column(7, "confidence", conf)
        if self.csv is None:
            assert self.csv_path is not None
            self.csv = pacsv.CSVWriter(self.csv_path, t.schema, write_options=pacsv.WriteOptions(quoting_style="none"))
        self.csv.write_table(t)

    def close(self) -> None:
        if self.pq is not None:
            self.pq.close()
        if self.csv is not None:
            self.csv.close()


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write a small CSV table (UTF-8, ``\\n`` line ends); returns the number of rows."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for row in rows:
            w.writerow(row)
            n += 1
    return n


def iso_local(start: dt.datetime, ts_s: float) -> str:
    """ISO 8601 local time with offset, to the second."""
    return (start + dt.timedelta(seconds=float(ts_s))).isoformat(timespec="seconds")
