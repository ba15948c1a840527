"""Encrypt face encodings at rest with a key from the environment (Fernet, AES-128 + HMAC).

PROVENA_FACE_KEY holds one or more Fernet keys, comma-separated, newest first: new encodings
are encrypted with the first, and any listed key decrypts, so keys can be rotated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class EncodingKeyMissing(ImproperlyConfigured):
    """Face encodings are on but no key is configured."""


def _cipher() -> MultiFernet:
    raw = settings.PROVENA_FACE_KEY
    if not raw:
        raise EncodingKeyMissing(
            "face encodings need PROVENA_FACE_KEY (or PROVENA_FACE_KEY_FILE): generate one with "
            "`manage.py generate_face_key`"
        )
    try:
        return MultiFernet([Fernet(key.strip()) for key in raw.split(",") if key.strip()])
    except ValueError as exc:
        raise ImproperlyConfigured(f"PROVENA_FACE_KEY is not a Fernet key: {exc}") from exc


def encoding_encrypt(encoding: Sequence[float] | np.ndarray) -> bytes:
    """Return the encrypted form of a 128-d face encoding."""
    vector = np.asarray(encoding, dtype="<f4")
    if vector.shape != (128,):
        raise ValueError(f"a face encoding has 128 values, not {vector.shape}")
    return _cipher().encrypt(vector.tobytes())


def encoding_decrypt(token: bytes | memoryview) -> np.ndarray:
    """Return the 128-d encoding; InvalidToken if the key is wrong or the bytes were altered."""
    return np.frombuffer(_cipher().decrypt(bytes(token)), dtype="<f4")


def encodings_decrypt(tokens: Sequence[bytes | memoryview]) -> np.ndarray:
    """Return an (n, 128) array of many encodings, decrypting with one cipher."""
    cipher = _cipher()
    if not tokens:
        return np.zeros((0, 128), dtype="<f4")
    return np.stack([np.frombuffer(cipher.decrypt(bytes(t)), dtype="<f4") for t in tokens])


__all__ = [
    "EncodingKeyMissing",
    "InvalidToken",
    "encoding_decrypt",
    "encoding_encrypt",
    "encodings_decrypt",
]
