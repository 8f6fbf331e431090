"""``make bench`` / ``tokenworks bench``: measured numbers, each against an anchor in the same run,
and the acceptance targets judged on them.

    harness.py  what a bench function uses: Row, BenchContext, timeit / p95 / wall_times, machine
    targets.py  every acceptance target in one place, each PASS / FAIL / NOT JUDGED with its number
    report.py   reports/bench.json and bench.md: write, read, and add the load section to them
    runner.py   which benches run (``tokenworks bench --only text,image,realphoto,audio``) and the command

Each modality lists its bench functions in ``BENCHES`` of its ``benchmarks`` module (text, image,
audio); they import ``harness`` (and audio ``targets``), never the runner. The load test drives the
checkout's app, so it lives in the checkout (``python -m tools.loadtest --bench reports``) and adds
its section to the same report through ``report.add_load``.

This file imports nothing: a bench function that imports ``bench.harness`` loads no more than that.
"""
