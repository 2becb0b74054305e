"""The study grid: square cells in metres, counts per cell, queen contiguity and kernel density.

Cells are numbered row-major from the south-west corner (``cell_id = row * ncols + col``), the
order libpysal's ``lat2W`` uses, so weights built here and there line up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from precinct.errors import BadInput

MAX_CELLS = 4_000_000
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Grid:
    """A square grid: lower-left corner ``(x0, y0)``, ``cell_m`` metres, ``nrows`` x ``ncols``."""

    x0: float
    y0: float
    cell_m: float
    nrows: int
    ncols: int
    crs: str

    @property
    def n(self) -> int:
        return self.nrows * self.ncols

    @classmethod
    def covering(cls, x: FloatArray, y: FloatArray, *, cell_m: float, crs: str,
                 max_cells: int = MAX_CELLS) -> Grid:
        """The smallest grid aligned to multiples of ``cell_m`` that covers every point."""
        if not (np.isfinite(cell_m) and cell_m > 0):
            raise BadInput("cell size must be a positive number of metres", detail={"field": "cell_m"})
        if x.size == 0:
            raise BadInput("no events to grid")
        x0 = float(np.floor(x.min() / cell_m) * cell_m)
        y0 = float(np.floor(y.min() / cell_m) * cell_m)
        ncols = int(np.floor((x.max() - x0) / cell_m)) + 1
        nrows = int(np.floor((y.max() - y0) / cell_m)) + 1
        if ncols * nrows > max_cells:
            raise BadInput(f"a {cell_m:g} m grid over these events has {ncols * nrows:,} cells, more than "
                           f"{max_cells:,}; use larger cells or a smaller area",
                           detail={"field": "cell_m", "cells": ncols * nrows, "limit": max_cells})
        return cls(x0, y0, float(cell_m), nrows, ncols, crs)

    def locate(self, x: FloatArray, y: FloatArray) -> IntArray:
        """Cell id of each point; -1 outside the grid."""
        col = np.floor((np.asarray(x) - self.x0) / self.cell_m).astype(np.int64)
        row = np.floor((np.asarray(y) - self.y0) / self.cell_m).astype(np.int64)
        inside = (col >= 0) & (col < self.ncols) & (row >= 0) & (row < self.nrows)
        return np.where(inside, row * self.ncols + col, -1)

    def counts(self, x: FloatArray, y: FloatArray) -> IntArray:
        """Events per cell (points outside the grid are not counted)."""
        c = self.locate(x, y)
        return np.bincount(c[c >= 0], minlength=self.n).astype(np.int64)

    def centres(self) -> tuple[FloatArray, FloatArray]:
        """Cell-centre coordinates, by cell id."""
        ids = np.arange(self.n)
        return (np.asarray(self.x0 + (ids % self.ncols + 0.5) * self.cell_m, dtype=np.float64),
                np.asarray(self.y0 + (ids // self.ncols + 0.5) * self.cell_m, dtype=np.float64))

    def as_image(self, values: npt.ArrayLike) -> FloatArray:
        """Per-cell values as an ``(nrows, ncols)`` array (row 0 is the southern edge)."""
        return np.asarray(values, dtype=np.float64).reshape(self.nrows, self.ncols)


def queen_weights(nrows: int, ncols: int, *, self_weight: bool = True) -> sparse.csr_matrix:
    """Binary queen contiguity of a lattice (row-major ids), with the cell itself when ``self_weight``."""
    n = nrows * ncols
    r, c = np.divmod(np.arange(n), ncols)
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == 0 and dc == 0 and not self_weight:
                continue
            rr, cc = r + dr, c + dc
            ok = (rr >= 0) & (rr < nrows) & (cc >= 0) & (cc < ncols)
            rows.append(np.flatnonzero(ok))
            cols.append(rr[ok] * ncols + cc[ok])
    i, j = np.concatenate(rows), np.concatenate(cols)
    return sparse.csr_matrix((np.ones(i.size), (i, j)), shape=(n, n))


def kernel_stencil(cell_m: float, bandwidth_m: float, *, kernel: str = "quartic") -> FloatArray:
    """Kernel weights on cell offsets, summing to 1 (quartic: zero beyond the bandwidth)."""
    if not (bandwidth_m > 0 and np.isfinite(bandwidth_m)):
        raise BadInput("bandwidth must be a positive number of metres", detail={"field": "bandwidth_m"})
    reach = bandwidth_m if kernel == "quartic" else 3.0 * bandwidth_m
    k = int(np.ceil(reach / cell_m))
    if k > 400:
        raise BadInput(f"bandwidth {bandwidth_m:g} m spans more than 400 cells of {cell_m:g} m",
                       detail={"field": "bandwidth_m"})
    off = np.arange(-k, k + 1) * cell_m
    d2 = (off[:, None] ** 2 + off[None, :] ** 2) / bandwidth_m**2
    if kernel == "quartic":
        w = np.where(d2 < 1.0, (1.0 - d2) ** 2, 0.0)
    elif kernel == "gaussian":
        w = np.exp(-0.5 * d2)
    else:
        raise BadInput("kernel must be quartic or gaussian", detail={"field": "kernel"})
    if w.sum() == 0:  # bandwidth well under a cell: all mass stays in the cell
        w[k, k] = 1.0
    return np.asarray(w / w.sum())


def kde_cells(grid: Grid, x: FloatArray, y: FloatArray, *, bandwidth_m: float, kernel: str = "quartic",
              weights: FloatArray | None = None) -> FloatArray:
    """Kernel density on the grid, as expected events per cell (binned KDE, mass-preserving).

    Each event's weight is spread over the cells around its own cell with the kernel sampled at
    cell offsets (FFT convolution), so the surface sums to the number of events (less what falls
    off the grid's edge). Divide by ``cell_m**2`` for a density per square metre.
    """
    c = grid.locate(x, y)
    ok = c >= 0
    w = np.ones(int(ok.sum())) if weights is None else np.asarray(weights, dtype=np.float64)[ok]
    img = np.bincount(c[ok], weights=w, minlength=grid.n).astype(np.float64).reshape(grid.nrows, grid.ncols)
    return smooth(img, kernel_stencil(grid.cell_m, bandwidth_m, kernel=kernel)).ravel()


def smooth(img: FloatArray, stencil: FloatArray) -> FloatArray:
    """Convolve an image with a stencil (same size, zero outside)."""
    from scipy.signal import fftconvolve

    if stencil.shape == (1, 1):
        return img * float(stencil[0, 0])
    out = fftconvolve(img, stencil, mode="same")
    return np.asarray(np.clip(out, 0.0, None))
