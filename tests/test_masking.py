"""Masking: every strategy (integer XOR, blocked lanes, numpy if installed) agrees
with the definition of RFC 6455 section 5.3, at every size and offset."""

from __future__ import annotations

import random

import pytest

from wsframe import masking


def reference(data: bytes, key: bytes) -> bytes:
    """RFC 6455 5.3, literally: octet i XOR key octet i MOD 4."""
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


IMPLEMENTATIONS = [masking.apply_mask_python]
if masking.ACCELERATOR:                     # numpy, when installed
    IMPLEMENTATIONS.append(masking._apply)

SIZES = [0, 1, 2, 3, 4, 5, 63, 64, 125, 126, 511, 512, 513, 1023, 1024, 1025, 4097,
         65535, 65536, 65537, 200_003]


@pytest.mark.parametrize("apply", IMPLEMENTATIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("size", SIZES)
def test_mask_matches_the_rfc_definition(apply, size: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(size)
    data, key = rng.randbytes(size), rng.randbytes(4)
    assert apply(data, key, 0, None) == reference(data, key)
    # In place in a larger buffer (start/stop), from bytes and from bytearray.
    buffer = rng.randbytes(7) + data + rng.randbytes(5)
    assert apply(buffer, key, 7, 7 + size) == reference(data, key)
    assert apply(bytearray(buffer), key, 7, 7 + size) == reference(data, key)


def test_masking_twice_gives_the_original() -> None:
    data = random.Random(1).randbytes(100_000)
    key = b"\x12\x34\x56\x78"
    assert masking.apply_mask(masking.apply_mask(data, key), key) == data


def test_accelerator_is_reported() -> None:
    assert masking.ACCELERATOR is None or masking.ACCELERATOR.startswith("numpy ")
