#!/usr/bin/python3
"""make_weights.py - writes the damaged and hostile weights files of the
submitted-model corpus (grader/tests/corpus/models/<case>/model.weights)
from the good one, which dlgrade itself trained:

    build/float/dlgrade train grader/tests/corpus/models/good-model/model.yaml \\
        --data blobs --seed 1 --save grader/tests/corpus/models/good-model/model.weights
    /usr/bin/python3 grader/tests/corpus/models/make_weights.py

The weights format (reference/src/network/weights.c) is written here from
its description, independently of the C writer: gzip of
"DLGRADEW", u32 version 1, u32 tensor count, per tensor u16 name length,
name, u8 rank, u32 dims, float32 values, then the CRC-32 of all of it;
little-endian. gzip headers carry no time (mtime 0), so a rerun writes the
same bytes. Each case's expect.txt holds offsets computed from this layout.
"""
import gzip
import os
import random
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def read_content(case):
    with gzip.open(os.path.join(HERE, case, "model.weights"), "rb") as f:
        return f.read()


def write(case, data):
    os.makedirs(os.path.join(HERE, case), exist_ok=True)
    with open(os.path.join(HERE, case, "model.weights"), "wb") as f:
        f.write(data)


def compress(content):
    return gzip.compress(content, compresslevel=9, mtime=0)


def seal(body):
    """The content with its closing CRC-32."""
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def content_of(tensors):
    """Content for [(name, dims, values)]."""
    body = b"DLGRADEW" + struct.pack("<II", 1, len(tensors))
    for name, dims, values in tensors:
        encoded = name.encode()
        body += struct.pack("<H", len(encoded)) + encoded + struct.pack("<B", len(dims))
        body += b"".join(struct.pack("<I", d) for d in dims)
        body += b"".join(struct.pack("<f", v) for v in values)
    return seal(body)


def main():
    good_file = open(os.path.join(HERE, "good-model", "model.weights"), "rb").read()
    good = read_content("good-model")
    assert good[:8] == b"DLGRADEW" and zlib.crc32(good[:-4]) == struct.unpack("<I", good[-4:])[0]

    # Cut in the middle of the compressed stream.
    write("truncated-weights", good_file[: len(good_file) // 2])

    # One bit of a value of linear1.weight flipped before compression: the
    # gzip stream is valid, only the file's own CRC can tell.
    flipped = bytearray(good)
    flipped[16 + 2 + 14 + 1 + 8 + 4 * 5 + 1] ^= 0x10
    write("flipped-byte", compress(bytes(flipped)))

    # linear1.weight's header claims (16, 3) where the values are (16, 2);
    # the CRC is recomputed, so the file is consistent and only lies.
    lying = bytearray(good[:-4])
    dims_at = 16 + 2 + len("linear1.weight") + 1
    assert struct.unpack("<II", lying[dims_at:dims_at + 8]) == (16, 2)
    lying[dims_at + 4:dims_at + 8] = struct.pack("<I", 3)
    write("lying-shape", compress(seal(bytes(lying))))

    # A sound file of another model: 32 hidden units instead of 16.
    rng = random.Random(20261127)
    other = [("linear1.weight", (32, 2), [rng.uniform(-1, 1) for _ in range(64)]),
             ("linear1.bias", (32,), [0.0] * 32),
             ("linear3.weight", (4, 32), [rng.uniform(-1, 1) for _ in range(128)]),
             ("linear3.bias", (4,), [0.0] * 4)]
    write("other-architecture", compress(content_of(other)))

    # A gzip bomb: 16 MiB of zeros in 16 KiB, where a weights file of
    # this model has 572 bytes of content.
    write("gzip-bomb", compress(bytes(16 << 20)))

    # The good weights, for the cases whose spec is what is wrong.
    for case in ("yaml-error", "unknown-layer", "huge-spec", "wrong-input", "wrong-classes"):
        write(case, good_file)


if __name__ == "__main__":
    main()
