"""What a model file's writer refuses so that its loader reads back every file it writes:
metadata nested deeper than JSON parsing goes, and a header past ``io_format.MAX_HEADER``
(the message names what makes it large, and what to do)."""

from __future__ import annotations

import json

from .io_format import MAX_HEADER


#: How deeply a metadata value may nest lists and dicts. JSON parsing recurses once a level,
#: so a loader refuses a record nested some 990 levels deep (Python's recursion limit):
#: refused here well below that, whatever the stack, so that every file saved loads.
MAX_METADATA_DEPTH = 100


def check_nesting(metadata: dict) -> None:
    """Refuse a metadata value nested more than ``MAX_METADATA_DEPTH`` lists and dicts deep
    (or one that contains itself), without recursing."""
    for key, value in metadata.items():
        stack = [(value, 1)]
        while stack:
            item, depth = stack.pop()
            if not isinstance(item, (dict, list, tuple)):
                continue
            if depth > MAX_METADATA_DEPTH:
                raise ValueError(f"model metadata {key!r} nests lists or dicts more than {MAX_METADATA_DEPTH} "
                                 "levels deep (or contains itself); a model file could not be read back")
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))


def check_header_size(record: str, n_tensors: int, document: dict) -> None:
    """Refuse to write a file whose header the loader would refuse (``MAX_HEADER``):
    the record as the JSON string it becomes, and at most 256 bytes per tensor entry. The
    message names the field that takes most of it (``_bulk``)."""
    size = len(json.dumps(record)) + 256 * n_tensors
    if size > MAX_HEADER:
        where, part, value = _bulk(document)
        count = f", {len(value)} values" if isinstance(value, (list, dict)) else ""
        top = where.split(".")[0]
        advice = ("store less metadata" if top == "metadata"
                  else "save the network alone (estimator.network_.save(path)), without the estimator's "
                       "class labels and feature names" if top == "estimator" else "")
        raise ValueError(f"the model's header would be about {size} bytes, more than the {MAX_HEADER >> 20} MiB "
                         f"a model file may have; {part} bytes of it are {where}{count}"
                         + (f": {advice}" if advice else ""))


def _bulk(document: dict) -> tuple[str, int, object]:
    """The field of a record that takes most of its JSON: its dotted path
    (``estimator.state.feature_names_in_``, ``metadata.notes``), its size in bytes and its value.
    Descends into the largest field while it is an object holding most of its parent."""
    path, value, size = [], document, len(json.dumps(document))
    while isinstance(value, dict) and value:
        sizes = {key: len(json.dumps(item)) for key, item in value.items()}
        key = max(sizes, key=sizes.get)
        if sizes[key] * 2 < size:  # many small fields: the object itself is the bulk
            break
        path.append(str(key))
        value, size = value[key], sizes[key]
    return ".".join(path) or "the record", size, value
