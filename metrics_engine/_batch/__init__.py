"""Batch runs of the ``metrics-engine`` command: how a run is carried out.

The batch layer is the only code with files. This package is split by job:

- ``lines``: what one input line holds (JSON backend, case id, ``at``, the latest ``at``);
- ``inputs``: event files, stdin, pipes, gzip, line numbers, calendar files;
- ``spill``: records and the temp files that hold them, partitions;
- ``targets``: where the outputs go, checked before any input is read;
- ``outputs``: rows, rejects, and committing the output files together;
- ``sla``: the ``--sla`` policy file, and each case's SLA results;
- ``signals``: trapped signals, worker processes that never outlive the command;
- ``options``: what a run is asked (options, tuning limits, hooks) and what it reports;
- ``cases``: the per-case work a worker does;
- ``run``: the state of one run (temp folder, pool, the parent's rejects, counts, progress);
- ``scan``: the parent's pass over the input lines;
- ``interleaved`` and ``grouped``: the two modes;
- ``command``: ``compute`` and ``validate`` from start to end.

Callers import from the modules (``command.run_compute``, ``options.ComputeOptions``...): the
package itself imports nothing, so that Spark, which reads lines as the command does, loads
``lines`` alone and not the worker pool, temp files and outputs of the command.

Theory of operation
-------------------
Every input line has a global *ordinal* (1, 2, ... across the inputs in the order given).
Everything that leaves a worker is a *record* ``(ordinal, type, payload)``: a row,
a rejected case or a rejected line. A row's ordinal is that of its case's first valid line,
so sorting records by ordinal gives rows "in the order in which each case first appears",
whatever the number of workers; a reject's is that of the line it points at, so rejects read
in file order.

Interleaved input (default), two passes:

1. The parent reads every line once, finds its case id and ``at`` cheaply (``orjson`` when it
   is installed; else a pinned-down byte search that falls back to ``json`` whenever it could
   be fooled), and appends ``(ordinal, case id text, raw line)`` to one of P partition files
   chosen by ``zlib.crc32`` of the case id text. It also keeps the latest ``at`` (for the
   default ``as_of``) and rejects lines it already knows are not events.
2. Each partition (in a process pool, or in-process for one worker) is read into memory,
   grouped by case, and each case goes through the per-case function ``_case.compute_case``.
   Its records, sorted, go to a partition output file; the parent then merges those files
   by ordinal (``heapq.merge``) into the final outputs. A partition far larger than planned
   (stdin of unknown size) is split again by a salted hash before it is read.

Grouped input (``--grouped``) streams: consecutive lines of one case form a case, cases go
in batches to the pool (a bounded window of batches in flight), results come back in order.
Without ``--as-of`` a first pass finds the latest ``at``, checks the grouping and notes
where each case starts, so that the second pass cuts cases without parsing a line (stdin is
spooled to a temp file for it). A case that appears again after another case stops the run:
nothing is committed. The byte search may find a case id in a line that is no event; a line
where the case id changes is therefore parsed in full before it counts (one parse per case),
so that such a line is rejected in place, as with orjson, and never cuts or repeats a case.

The default ``as_of`` is kept exact cheaply (see ``lines``). With ``orjson``, results
are identical to the stdlib path by construction: a case that fails is re-read with ``json``
before it is rejected (orjson reads integers beyond 64 bits as floats).

Outputs are committed only at the very end, once the run has succeeded (see ``outputs``).
"""
