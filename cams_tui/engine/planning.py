"""Packing recipients into batches: at most 1,000 each, and small enough to travel.

A recipient becomes its SenderList item (compact JSON, ``TemplateParams`` before ``To``,
exactly as :func:`cams_tui.api.models.sender_list_json` writes it), and items are packed
greedily, in input order. In ``query`` placement every parameter travels in the URL, which
httpx caps at 64 KiB; each item's percent-encoded size is then counted (encoding is per
byte, so sizes add up) and a batch closes before it would overflow the URL.

A planned batch can be split later, its recipients kept in order and byte for byte: in two
halves when a gateway refuses its size (:func:`split_in_halves`), or to fit a URL when a job
planned for the body is resumed in ``query`` placement (:func:`replan_for_placement`).
"""

from __future__ import annotations

import collections
import json
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from json.encoder import encode_basestring
from typing import Protocol

from cams_tui.api import signing
from cams_tui.api.endpoints import Placement
from cams_tui.api.models import MAX_RECIPIENTS_PER_REQUEST, MassMessageOptions, compact_json
from cams_tui.engine.journal import COMPRESS_LEVEL, BatchState, Journal, PlannedBatch
from cams_tui.errors import UserError

# "[", "]" and "," of the SenderList, percent-encoded.
_ENCODED_BRACKETS = len(signing.encode_component("[]"))
_ENCODED_COMMA = len(signing.encode_component(","))
_SENDER_LIST_KEY = "&SenderList="


class PlanningError(UserError):
    """A recipient that cannot fit in any request."""


def sender_item(to: str, params: Mapping[str, str] | None) -> str:
    """One SenderList entry as it travels."""
    if params:
        return compact_json({"TemplateParams": dict(params), "To": to})
    return compact_json({"To": to})


class ColumnStore(Protocol):
    """Recipients held by column (:class:`cams_tui.recipients.intake.RecipientStore`)."""

    # Read-only (properties): a protocol's plain attributes would have to match invariantly.
    @property
    def numbers(self) -> Sequence[int]: ...
    @property
    def columns(self) -> Mapping[str, Sequence[str]]: ...

    def __len__(self) -> int: ...


PlanProgress = Callable[[int, int], None]
"""Called with (recipients planned, recipients in all) while a job is planned."""

# Recipients turned into SenderList items at a time: a batch's worth, so that a million
# recipients never exist as a million item strings at once (only as compressed batches).
_CHUNK = MAX_RECIPIENTS_PER_REQUEST
# Batches waiting for their compression at most (each holds its SenderList uncompressed).
_COMPRESSING_AHEAD = 4


def sender_items_of(
    store: ColumnStore, names: Sequence[str], global_params: Mapping[str, str], start: int, stop: int
) -> list[str]:
    """The SenderList items of recipients ``start:stop``, built column by column.

    Each name in ``names`` takes the recipient's cell of that column when it is not empty,
    else the global value (stripped); a name with neither is left out of that recipient's
    TemplateParams, and a recipient with no value at all is sent as ``{"To":...}``. The
    result is byte for byte what :func:`sender_item` gives for each recipient."""
    numbers = store.numbers[start:stop]
    fragments: list[list[str] | str] = []  # per name: one fragment per recipient, or a constant
    gaps = False
    for name in dict.fromkeys(names):
        key = encode_basestring(name) + ":"
        fallback = (global_params.get(name) or "").strip()
        column = store.columns.get(name)
        if column is None:
            if fallback:
                fragments.append(key + encode_basestring(fallback))
            continue
        cells = column[start:stop]
        if fallback:
            cells = [cell or fallback for cell in cells]
        elif not all(cells):
            gaps = True
            fragments.append([key + encode_basestring(cell) if cell else "" for cell in cells])
            continue
        fragments.append([key + value for value in map(encode_basestring, cells)])
    tos = [f'"To":"{number}"}}' for number in numbers]
    if not fragments:
        return ["{" + to for to in tos]
    if not gaps and all(isinstance(part, str) for part in fragments):
        head = '{"TemplateParams":{' + ",".join(fragments) + "},"  # type: ignore[arg-type]
        return [head + to for to in tos]
    columns = [[part] * len(tos) if isinstance(part, str) else part for part in fragments]
    if not gaps:
        return ['{"TemplateParams":{' + ",".join(row) + "}," + to for *row, to in zip(*columns, tos, strict=True)]
    items = []
    for *row, to in zip(*columns, tos, strict=True):
        params = ",".join(filter(None, row))
        items.append('{"TemplateParams":{' + params + "}," + to if params else "{" + to)
    return items


def plan_recipients(
    store: ColumnStore,
    names: Sequence[str],
    global_params: Mapping[str, str],
    options: MassMessageOptions,
    *,
    placement: Placement,
    max_query_length: int,
    max_size: int = MAX_RECIPIENTS_PER_REQUEST,
    canary_size: int = 0,
    progress: PlanProgress | None = None,
) -> tuple[list[PlannedBatch], int]:
    """Every batch of a job, planned from recipients held by column; returns the batches and
    how many of them are the canary's (its first ``canary_size`` recipients, packed apart).

    The same batches as :func:`plan_batches` over :func:`sender_item` of each recipient,
    without a Python object per recipient: items are built a batch at a time and each batch
    is compressed as soon as it is whole."""
    total = len(store)
    canary_size = max(0, min(canary_size, total))

    def items(start: int, stop: int) -> Iterator[str]:
        for low in range(start, stop, _CHUNK):
            high = min(low + _CHUNK, stop)
            yield from sender_items_of(store, names, global_params, low, high)
            if progress is not None:
                progress(high, total)

    def plan(start: int, stop: int) -> list[PlannedBatch]:
        if placement is Placement.QUERY:
            budget = query_budget(options, max_query_length)
            return list(pack_batches(items(start, stop), max_size=max_size, max_encoded=budget))
        if not 1 <= max_size <= MAX_RECIPIENTS_PER_REQUEST:
            raise ValueError(f"a batch holds 1 to {MAX_RECIPIENTS_PER_REQUEST:,} recipients; got {max_size}")
        # The body holds any batch: each is max_size recipients, in order. zlib lets go of
        # the GIL while it compresses, so one batch is compressed while the next is built.
        out: list[PlannedBatch] = []
        pending: collections.deque[tuple[int, Future[bytes]]] = collections.deque()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="compress") as pool:
            for low in range(start, stop, max_size):
                high = min(low + max_size, stop)
                batch = sender_items_of(store, names, global_params, low, high)
                data = ("[" + ",".join(batch) + "]").encode()
                pending.append((len(batch), pool.submit(zlib.compress, data, COMPRESS_LEVEL)))
                while len(pending) > _COMPRESSING_AHEAD or (pending and pending[0][1].done()):
                    size, future = pending.popleft()
                    out.append(PlannedBatch(size, future.result()))
                if progress is not None:
                    progress(high, total)
            out.extend(PlannedBatch(size, future.result()) for size, future in pending)
        return out

    head = plan(0, canary_size) if canary_size else []
    return head + plan(canary_size, total), len(head)


def query_budget(options: MassMessageOptions, max_query_length: int) -> int:
    """How many encoded characters the SenderList value may take in ``query`` placement."""
    others = len(signing.canonical_query(options.to_params()))
    return max_query_length - others - len(_SENDER_LIST_KEY)


def pack_batches(
    items: Iterable[str],
    *,
    max_size: int = MAX_RECIPIENTS_PER_REQUEST,
    max_encoded: int | None = None,
) -> Iterator[PlannedBatch]:
    """Pack SenderList items into batches of at most ``max_size`` items whose encoded
    SenderList (when ``max_encoded`` is given) stays within ``max_encoded`` characters."""
    if not 1 <= max_size <= MAX_RECIPIENTS_PER_REQUEST:
        raise ValueError(f"a batch holds 1 to {MAX_RECIPIENTS_PER_REQUEST:,} recipients; got {max_size}")
    batch: list[str] = []
    encoded = _ENCODED_BRACKETS
    for item in items:
        size = len(signing.encode_component(item)) if max_encoded is not None else 0
        if max_encoded is not None and _ENCODED_BRACKETS + size > max_encoded:
            raise PlanningError(
                f"one recipient's entry takes {size:,} characters in the URL, more than a request can "
                f"carry ({max_encoded:,}): shorten its parameters or use the 'body' placement ({item[:80]}…)"
            )
        added = size + (_ENCODED_COMMA if batch else 0)
        if batch and (len(batch) >= max_size or (max_encoded is not None and encoded + added > max_encoded)):
            yield PlannedBatch.of(len(batch), "[" + ",".join(batch) + "]")
            batch, encoded, added = [], _ENCODED_BRACKETS, size
        batch.append(item)
        encoded += added
    if batch:
        yield PlannedBatch.of(len(batch), "[" + ",".join(batch) + "]")


def plan_batches(
    items: Iterable[str],
    options: MassMessageOptions,
    *,
    placement: Placement,
    max_query_length: int,
    max_size: int = MAX_RECIPIENTS_PER_REQUEST,
) -> Iterator[PlannedBatch]:
    """Batches for a job whose parameters travel in ``placement``."""
    budget = query_budget(options, max_query_length) if placement is Placement.QUERY else None
    return pack_batches(items, max_size=max_size, max_encoded=budget)



def sender_items(sender_list: str) -> list[str]:
    """The items of a stored SenderList, each exactly as it travels (compact JSON keeps the
    stored key order, so joining them gives back ``sender_list`` byte for byte)."""
    return [compact_json(item) for item in json.loads(sender_list)]


def split_in_halves(sender_list: str) -> list[PlannedBatch]:
    """A batch's SenderList as two batches (the first half first); ``[]`` for a single
    recipient, which cannot be split."""
    items = sender_items(sender_list)
    if len(items) < 2:
        return []
    middle = len(items) // 2
    return [
        PlannedBatch.of(len(part), "[" + ",".join(part) + "]") for part in (items[:middle], items[middle:])
    ]


def replan_for_placement(journal: Journal, job_id: str, placement: Placement, max_query_length: int) -> int:
    """Make a job's unsent batches fit ``placement`` and record it as the job's placement,
    in one transaction; returns how many batches were split.

    For ``query``, every ``planned`` batch whose SenderList would not fit a URL of
    ``max_query_length`` (``CamsClient.max_query_length``) is packed again into batches that
    do, in order; ``body`` holds any batch, so nothing is split. Batches already sent (or
    unknown) are left alone. Raises :class:`PlanningError` for a recipient too long for any
    URL (the job is then left as it was)."""
    job = journal.job(job_id)
    splits: dict[int, list[PlannedBatch]] = {}
    if placement is Placement.QUERY:
        budget = query_budget(job.options, max_query_length)
        for batch in journal.batches(job_id, [BatchState.PLANNED]):
            sender_list = journal.sender_list(job_id, batch.index)
            if len(signing.encode_component(sender_list)) <= budget:
                continue
            pieces = list(pack_batches(sender_items(sender_list), max_encoded=budget))
            if len(pieces) > 1:
                splits[batch.index] = pieces
    journal.replan_batches(job_id, splits, placement)
    return len(splits)
