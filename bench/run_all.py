"""Run every benchmark once, one after the other, each writing its figures in bench/RESULTS.md (in place of its previous section).

    .venv/bin/python bench/run_all.py            # full sizes (200 units x ~200 pages: the better part of an hour)
    .venv/bin/python bench/run_all.py --quick    # small sizes, a few minutes

Scripts written by other parts of the project that only print (bench/score_bench.py, bench/recrawl_bytes.py)
are run as they are and their output is appended under their own heading.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.machine import write_section  # noqa: E402


def _run(args: list[str]) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, *args], cwd=HERE.parent, capture_output=True, text=True)
    return proc.returncode, (proc.stdout + ("\n" + proc.stderr[-2000:] if proc.returncode else "")).strip()


def _printing_script(name: str, title: str, args: list[str]) -> None:
    path = HERE / name
    if not path.exists():
        write_section(title, [f"bench/{name} is not in this tree yet: not run."])
        return
    t = time.perf_counter()
    code, out = _run([str(path), *args])
    write_section(title, [f"`bench/{name} {' '.join(args)}` (exit {code}, {time.perf_counter() - t:.1f} s):", "",
                           "```", out, "```"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    quick = ["--quick"] if args.quick else []
    failures = 0
    for script, extra in (("crawl_bench.py", quick),
                          ("pdf_bench.py", ["--docs", "14"] if args.quick else []),
                          ("linkcheck_bench.py", ["--sizes", "5x40"] if args.quick else []),
                          ("recrawl_bytes.py", ["--results"])):  # replaces its own RESULTS.md section
        print(f"== {script}", flush=True)
        code, out = _run([str(HERE / script), *extra])
        print(out, flush=True)
        failures += code != 0
    _printing_script("score_bench.py", "Scoring 1,000 units under every rubric (bench/score_bench.py)",
                     [])  # 1,000 units is cheap enough for --quick too
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
