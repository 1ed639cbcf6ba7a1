"""Regression analysis timings.

    python benchmarks/regression.py                 # SQLite and PostgreSQL
    python benchmarks/regression.py --only current
    python benchmarks/regression.py --random-pair   # measure 3 only

1. Two five-stage traces whose outputs are ~1 MB each (5,000 keyed rows per
   stage, 1% of them changed in the candidate): the whole analysis (load
   payloads, structural diff, scoring). Target < 300 ms.
2. A 20-vs-20 group analysis (statistics per stage and metric). Target < 2 s.
4. The structural diff's worst case by size: a pair whose ``execute`` outputs
   are ~1 MB (5,000 keyed rows) and ~5 MB (25,000) and in which every row
   differs (status and value), timed as a whole analysis (as in 1) and as the
   bare diff (``stage_output_diff`` with the engine's options). Targets
   < 1 s and < 3 s. Runs after 1 and 2.
3. ``--random-pair``: pairs of random traces from ``generate.py`` (~10 KB
   outputs, 157-row lists whose ``id``s repeat, so rows are compared by
   position and nearly all differ), the structural diff's worst case; the
   whole analysis as in 1. Target < 300 ms.
"""

from __future__ import annotations

import itertools
import statistics

from _django import bench_parser, benchmark_database, percentile, run_here_or_on_both, timed

RANDOM_PAYLOAD_BYTES = 11_000  # as benchmarks/scale.py: ~10 KB JSON a stage output, 157 rows


def _big_trace(trace_id: str, changed: bool) -> dict:
    from testkit.factories import trace_body

    body = trace_body(trace_id=trace_id)
    for stage in body["stages"]:
        rows = [{"id": f"ci-{i:05d}", "name": f"host-{i}", "status": "active", "owner": "platform",
                 "location": "eu-west-1a", "value": i * 1.5, "note": "x" * 90} for i in range(5000)]
        if changed:
            for i in range(0, 5000, 100):
                rows[i] = {**rows[i], "status": "maintenance"}
        stage["output"]["result"]["rows"] = rows
    return body


def _every_row_differs_output(rows: int, changed: bool) -> dict:
    """An ``execute`` output of ``rows`` keyed rows (~210 bytes each); the candidate's differ in every row."""
    status, shift = ("maintenance", 1.0) if changed else ("active", 0.0)
    return {"stage": "execute", "duration_ms": 40, "result": {"rows": [
        {"id": f"ci-{i:05d}", "name": f"host-{i}", "status": status, "owner": "platform", "location": "eu-west-1a",
         "value": i * 1.5 + shift, "note": "x" * 90} for i in range(rows)]}}


def run_every_row_differs(vendor: str, repeat: int) -> None:
    """4.: ~1 MB and ~5 MB pairs in which every row differs, analysed and diffed."""
    _every_row_differs_pair(vendor, "1 MB", 5_000, "< 1 s", repeat)
    _every_row_differs_pair(vendor, "5 MB", 25_000, "< 3 s", repeat)


def _every_row_differs_pair(vendor: str, label: str, rows: int, target: str, repeat: int) -> None:
    import orjson

    from inspector.services import trace_ingest
    from inspector.structural_diff import stage_output_diff
    from regression.engine import ScoringConfig
    from regression.models import RegressionAnalysis
    from regression.services import analysis_execute
    from testkit.factories import trace_body

    outputs = {}
    for side, changed in (("base", False), ("cand", True)):
        body = trace_body(trace_id=f"every-{rows}-{side}")
        [execute] = [stage for stage in body["stages"] if stage["stage"] == "execute"]
        execute["output"] = {**execute["output"], **_every_row_differs_output(rows, changed)}
        outputs[side] = execute["output"]
        trace_ingest(payload=body)
    size = len(orjson.dumps(outputs["base"])) / 1e6
    options = ScoringConfig().diff_options()
    scores = set()

    def analysis() -> None:
        analysis = RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=[f"every-{rows}-base"],
                                                     candidate_trace_ids=[f"every-{rows}-cand"])
        result = analysis_execute(analysis_id=analysis.pk)
        assert result.status == "completed", result.error_message
        scores.add((result.score, result.verdict))

    def diff() -> None:
        found = stage_output_diff(outputs["base"], outputs["cand"], options, max_operations=None)
        assert found["truncated"], "every row differs: the diff is cut"

    analysis()  # warm-up
    for name, fn in (("analysis executed", analysis), ("bare diff", diff)):
        ms = timed(fn, repeat)
        print(f"[{vendor:10}] pair, {label} ({size:.1f} MB execute outputs), every row differs, {name}: "
              f"median {statistics.median(ms):.0f} ms, p95 {percentile(ms, 95):.0f} ms, max {max(ms):.0f} ms "
              f"over {repeat} (target {target}); score/verdict {sorted(scores)}", flush=True)


def run_current(repeat: int) -> None:
    with benchmark_database() as vendor:
        from inspector.services import trace_ingest
        from regression.models import RegressionAnalysis
        from regression.services import analysis_execute
        from testkit.factories import trace_body

        trace_ingest(payload=_big_trace("big-base", changed=False))
        trace_ingest(payload=_big_trace("big-cand", changed=True))

        def pair() -> None:
            analysis = RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=["big-base"],
                                                         candidate_trace_ids=["big-cand"])
            result = analysis_execute(analysis_id=analysis.pk)
            assert result.status == "completed", result.error_message

        for i in range(20):
            trace_ingest(payload=trace_body(trace_id=f"gb-{i}"))
            slow = trace_body(trace_id=f"gc-{i}")
            for stage in slow["stages"]:
                stage["output"]["duration_ms"] = 30 + i
            trace_ingest(payload=slow)

        def group() -> None:
            analysis = RegressionAnalysis.objects.create(kind="group", baseline_trace_ids=[f"gb-{i}" for i in range(20)],
                                                         candidate_trace_ids=[f"gc-{i}" for i in range(20)])
            result = analysis_execute(analysis_id=analysis.pk)
            assert result.status == "completed", result.error_message

        pair_ms, group_ms = timed(pair, repeat), timed(group, repeat)
        print(f"[{vendor:10}] pair of 5-stage traces with ~1 MB outputs: median {statistics.median(pair_ms):.0f} ms, "
              f"max {max(pair_ms):.0f} ms (target < 300 ms)", flush=True)
        print(f"[{vendor:10}] 20-vs-20 group analysis: median {statistics.median(group_ms):.0f} ms, "
              f"max {max(group_ms):.0f} ms (target < 2 s)", flush=True)
        run_every_row_differs(vendor, max(repeat, 10))


def run_random_pair(pairs: int) -> None:
    """Analyse ``pairs`` consecutive pairs of generated traces (as benchmarks/scale.py does)."""
    with benchmark_database() as vendor:
        from generate import generate_traces

        from regression.models import RegressionAnalysis
        from regression.services import analysis_execute

        generate_traces(pairs + 1, payload_bytes=RANDOM_PAYLOAD_BYTES, prefix="rnd")
        ids = [f"rnd-{n:08d}" for n in range(pairs + 1)]
        scores = []

        def pair(baseline: str, candidate: str) -> None:
            analysis = RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=[baseline],
                                                         candidate_trace_ids=[candidate])
            result = analysis_execute(analysis_id=analysis.pk)
            assert result.status == "completed", result.error_message
            scores.append((result.score, result.verdict))

        pair(ids[0], ids[1])  # warm-up
        consecutive = itertools.pairwise(ids)  # (ids[i], ids[i + 1]), i = 0 … pairs - 1
        timings = timed(lambda: pair(*next(consecutive)), pairs)
        verdicts = statistics.multimode(scores[1:])
        print(f"[{vendor:10}] pair of random generated traces (~10 KB outputs, positional rows): "
              f"median {statistics.median(timings):.0f} ms, p95 {percentile(timings, 95):.0f} ms, "
              f"max {max(timings):.0f} ms over {pairs} pairs (target < 300 ms); "
              f"most common score/verdict {verdicts}", flush=True)


def main() -> None:
    parser = bench_parser(__doc__, sqlite_and_postgresql=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--random-pair", action="store_true", help="time pairs of random generated traces instead")
    parser.add_argument("--pairs", type=int, default=30, help="pairs analysed with --random-pair")
    args = parser.parse_args()
    if args.random_pair:
        run_here_or_on_both(args.only, __file__, lambda: run_random_pair(args.pairs),
                            ["--random-pair", "--pairs", str(args.pairs)])
    else:
        run_here_or_on_both(args.only, __file__, lambda: run_current(args.repeat), ["--repeat", str(args.repeat)])


if __name__ == "__main__":
    main()
