"""Command-line spellings of the ops' arguments, shared by the commands."""

__all__ = ["padding_items"]


def padding_items(spec):
    """``'valid'``/``'same'``, else the comma-separated items of ``spec``, each an int or
    a ``before:after`` pair, as a list of tuples of 1 or 2 ints; a ValueError if it is
    neither.

    >>> padding_items("1:0,2"), padding_items(" Same ")
    ([(1, 0), (2,)], 'same')
    """
    low = spec.strip().lower()
    if low in ("valid", "same"):
        return low
    items = [tuple(int(v) for v in item.split(":")) for item in spec.split(",")]
    if any(len(t) not in (1, 2) for t in items):
        raise ValueError(spec)
    return items
