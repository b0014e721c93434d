"""Which subtask a key of a PyFlink keyed stream lands on, so that key buckets spread evenly.

A job at parallelism 2 and more keys each step by bucket (an int), and Flink places a key on a
subtask by a hash of it. With a few buckets, that hash can put most of them on one subtask (8
buckets per subtask put 11 of 16 on one, measured here), and a subtask with no bucket idles.
So each bucket is given an int key that Flink places on the subtask the bucket is meant for.

Flink's placement, as this module computes it: PyFlink's ``key_by`` wraps the key in a one
field ``Row``, whose hash is ``62 + k`` for the int ``k``; the key group is Flink's murmur hash
of that, modulo the job's maximum parallelism (128 unless configured or the parallelism is
above 85); the subtask is ``key_group * parallelism // max_parallelism``. The Flink tests
check it against the subtask that actually runs each bucket; were Flink to place keys
otherwise, the job would stay correct (a bucket is a bucket wherever it runs), only uneven.
"""

from __future__ import annotations

__all__ = ["bucket_keys", "default_max_parallelism", "subtask_of"]

_MASK = 0xFFFFFFFF


def _rotate_left(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (32 - bits))) & _MASK


def _murmur(code: int) -> int:
    """Flink's ``MathUtils.murmurHash`` of a Java int: non-negative."""
    code = (code * 0xCC9E2D51) & _MASK
    code = _rotate_left(code, 15)
    code = (code * 0x1B873593) & _MASK
    code = _rotate_left(code, 13)
    code = (code * 5 + 0xE6546B64) & _MASK
    code ^= 4
    code ^= code >> 16  # the final mix (bitMix)
    code = (code * 0x85EBCA6B) & _MASK
    code ^= code >> 13
    code = (code * 0xC2B2AE35) & _MASK
    code ^= code >> 16
    signed = code - (1 << 32) if code >> 31 else code
    return abs(signed) if signed != -(1 << 31) else 0


def default_max_parallelism(parallelism: int) -> int:
    """Flink's maximum parallelism (its number of key groups) when none is configured.

    >>> default_max_parallelism(2), default_max_parallelism(100)
    (128, 256)
    """
    wanted = parallelism + parallelism // 2
    power = 1 << max(wanted - 1, 0).bit_length()
    return min(max(power, 128), 32768)


def subtask_of(key: int, parallelism: int, max_parallelism: int) -> int:
    """The subtask that runs the int ``key`` of a PyFlink keyed stream.

    >>> [subtask_of(k, 2, 128) for k in range(6)]
    [0, 0, 1, 1, 0, 0]
    """
    group = _murmur((62 + key) & _MASK) % max_parallelism
    return group * parallelism // max_parallelism


def bucket_keys(buckets: int, parallelism: int, max_parallelism: int) -> list[int]:
    """An int key for each of ``buckets`` buckets, bucket ``b`` placed on subtask
    ``b % parallelism``: every subtask gets its share of the buckets.

    >>> keys = bucket_keys(4, 2, 128)
    >>> [subtask_of(k, 2, 128) for k in keys]
    [0, 1, 0, 1]
    """
    keys: list[int] = []
    found: dict[int, list[int]] = {i: [] for i in range(parallelism)}
    candidate = 0
    while len(keys) < buckets:
        found[subtask_of(candidate, parallelism, max_parallelism)].append(candidate)
        candidate += 1
        wanted = len(keys) % parallelism
        while found[wanted] and len(keys) < buckets:
            keys.append(found[wanted].pop(0))
            wanted = len(keys) % parallelism
    return keys
