"""Kayako conversion speed beside ``json.loads`` of the same saved responses, in one run.

Run: ``python -m benchmarks.bench_kayako [--cases 400]``. Synthetic cases (benchmarks.synth)
are rendered as Kayako would return them (the tests' renderer: the final case, its posts with
``filters=all``, newest first, 30 to a page, in flat mode, embedded, and camelCase) and kept
as JSON text. For each layout it times, per post (an activity arrives as a post too):
``json.loads`` of the case and its pages; ``convert_case`` of the decoded responses; and both
together, with the ratios to ``json.loads``. No thresholds: the figures go in docs/kayako.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable

from benchmarks.synth import generate_cases
from metrics_engine.sources import kayako
from tests.kayako_render import camel, canonical_order, embedded, render


def _best_of(repeats: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


Texts = list[tuple[str, list[str]]]


def _decode(texts: Texts) -> None:
    loads = json.loads
    for case, pages in texts:
        loads(case)
        for page in pages:
            loads(page)


def _convert(decoded: list[tuple[object, list[object]]], directory: kayako.Directory) -> None:
    for case, pages in decoded:
        kayako.convert_case(case, pages, directory=directory)


def _both(texts: Texts, directory: kayako.Directory) -> None:
    loads = json.loads
    for case, pages in texts:
        kayako.convert_case(loads(case), [loads(page) for page in pages], directory=directory)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    rendered = [
        render(canonical_order(events), page_size=30, case_id=number)
        for number, events in enumerate(generate_cases(args.cases, seed=5), 1)
    ]
    directory = kayako.Directory(statuses=rendered[0].statuses)
    posts = sum(len(page["data"]) for case in rendered for page in case.posts)
    layouts: dict[str, Callable[[dict[str, object]], object]] = {
        "flat": lambda page: page,
        "embedded": embedded,
        "camelCase (flat)": camel,
    }
    print(f"{len(rendered)} cases, {posts} posts ({posts / len(rendered):.1f} per case)")
    for name, layout in layouts.items():
        texts = [
            (json.dumps(layout(case.case)), [json.dumps(layout(page)) for page in case.posts])
            for case in rendered
        ]
        size = sum(len(case) + sum(len(page) for page in pages) for case, pages in texts)
        decoded = [
            (json.loads(case), [json.loads(page) for page in pages]) for case, pages in texts
        ]

        t_json = _best_of(args.repeats, lambda texts=texts: _decode(texts))
        t_convert = _best_of(args.repeats, lambda decoded=decoded: _convert(decoded, directory))
        t_both = _best_of(args.repeats, lambda texts=texts: _both(texts, directory))
        print(f"\n{name}: {size / posts:.0f} bytes of JSON per post")
        for label, seconds in (
            ("json.loads", t_json),
            ("convert_case (decoded)", t_convert),
            ("json.loads + convert_case", t_both),
        ):
            print(
                f"  {label:26s} {seconds * 1e6 / posts:7.2f} µs/post  "
                f"{posts / seconds:>10,.0f} posts/s  {seconds / t_json:5.2f}× json.loads"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
