"""A thin, typed wrapper over HiGHS for the mixed-integer programs of the patrol solvers.

Models are passed whole in compressed-column form (one call into HiGHS, no per-variable Python
objects), which keeps model building linear in the number of non-zeros.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from precinct.errors import PrecinctError

INF = highspy.kHighsInf
_banner_done = False


def _quiet_highs() -> highspy.Highs:
    """A Highs instance; the first one of the process is made with stdout muted, because HiGHS
    prints its banner from C++ there and would spoil JSON output of the CLI."""
    global _banner_done
    if _banner_done:
        return highspy.Highs()
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _banner_done = True
    return h


class SolverError(PrecinctError):
    """HiGHS stopped without a usable answer (numerical trouble, memory)."""

    code = "solver_error"
    http_status = 500
    exit_code = 1


@dataclass(frozen=True)
class MilpResult:
    """Outcome of one HiGHS solve.

    Attributes
    ----------
    x
        Column values (``None`` when no feasible point was found).
    objective
        Objective of ``x`` (``nan`` without one).
    bound
        Proven dual bound (a lower bound when minimising, upper when maximising).
    status
        ``"optimal"``, ``"infeasible"``, ``"time_limit"`` or another HiGHS model status, lower case.
    """

    x: np.ndarray | None
    objective: float
    bound: float
    status: str

    @property
    def gap(self) -> float:
        """Relative gap between the incumbent and the bound (0 when proven optimal)."""
        if self.x is None:
            return math.inf
        if self.status == "optimal":
            return 0.0
        denom = max(abs(self.objective), 1e-9)
        return abs(self.objective - self.bound) / denom


def solve_milp(
    c: np.ndarray,
    a: sp.spmatrix | sp.sparray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    *,
    col_lower: np.ndarray | None = None,
    col_upper: np.ndarray | None = None,
    integrality: np.ndarray | None = None,
    maximize: bool = False,
    time_limit: float | None = None,
    mip_rel_gap: float = 0.0,
    objective_bound: float | None = None,
    threads: int | None = None,
    start: np.ndarray | None = None,
    heuristic_effort: float | None = None,
) -> MilpResult:
    """Solve ``min/max c.x`` s.t. ``row_lower <= A x <= row_upper``, bounds, integrality.

    Parameters
    ----------
    c
        Objective coefficients, shape ``(n,)``.
    a
        Constraint matrix, shape ``(m, n)``, any SciPy sparse format.
    row_lower, row_upper
        Row bounds (use ``-inf``/``inf`` for one-sided rows).
    col_lower, col_upper
        Column bounds; default ``0`` and ``1``.
    integrality
        ``1`` for integer columns, ``0`` for continuous; default all integer.
    maximize
        Maximise instead of minimise.
    time_limit
        Seconds; the incumbent and bound are returned when it is reached.
    mip_rel_gap
        Relative gap at which HiGHS stops (``0`` = prove optimality).
    objective_bound
        Cut-off: HiGHS prunes everything worse; "infeasible" then means "nothing better exists".
    threads
        HiGHS threads (default: HiGHS decides).
    start
        A feasible starting point (MIP start), so a time limit still returns at least it.
    heuristic_effort
        HiGHS ``mip_heuristic_effort`` (share of work on primal heuristics; default 0.05).

    Returns
    -------
    MilpResult
    """
    n = int(c.shape[0])
    csc = sp.csc_matrix(a, dtype=np.float64)
    m = int(csc.shape[0])
    if csc.shape[1] != n:
        raise ValueError(f"matrix has {csc.shape[1]} columns, objective {n}")
    col_lower = np.zeros(n) if col_lower is None else np.asarray(col_lower, dtype=np.float64)
    col_upper = np.ones(n) if col_upper is None else np.asarray(col_upper, dtype=np.float64)
    integrality = np.ones(n, dtype=np.int32) if integrality is None else np.asarray(integrality, np.int32)

    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = m
    lp.col_cost_ = np.asarray(c, dtype=np.float64)
    lp.col_lower_ = np.where(np.isinf(col_lower), -INF, col_lower)
    lp.col_upper_ = np.where(np.isinf(col_upper), INF, col_upper)
    lp.row_lower_ = np.where(np.isinf(row_lower), -INF, np.asarray(row_lower, dtype=np.float64))
    lp.row_upper_ = np.where(np.isinf(row_upper), INF, np.asarray(row_upper, dtype=np.float64))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = m
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    if integrality.any():
        lp.integrality_ = [highspy.HighsVarType(int(v)) for v in integrality]

    h = _quiet_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("mip_abs_gap", 1e-9)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
    if objective_bound is not None:
        h.setOptionValue("objective_bound", float(objective_bound))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    if heuristic_effort is not None:
        h.setOptionValue("mip_heuristic_effort", float(heuristic_effort))
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=np.float64).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.getModelStatus()
    name = h.modelStatusToString(status).lower().replace(" ", "_")
    info = h.getInfo()
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status == highspy.HighsModelStatus.kOptimal:
        name = "optimal"
    elif status == highspy.HighsModelStatus.kInfeasible:
        name = "infeasible"
    elif status == highspy.HighsModelStatus.kTimeLimit:
        name = "time_limit"
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_sol else None
    objective = float(info.objective_function_value) if has_sol else math.nan
    bound = float(info.mip_dual_bound) if integrality.any() else objective
    if status == highspy.HighsModelStatus.kOptimal and x is not None:
        bound = objective if not integrality.any() else bound
    if x is None and name not in {"infeasible", "time_limit"}:
        raise SolverError(f"HiGHS stopped with status {name!r} and no solution")
    return MilpResult(x=x, objective=objective, bound=bound, status=name)
