"""PNG fixtures for TesselDataTests and the predict command, written with Python's zlib and
struct only (no imaging library), so the decoder is checked against an independent encoder.

Run from the repository root: python3 Tests/Fixtures/make_image_fixtures.py
"""
import gzip
import struct
import zlib
from pathlib import Path

OUT = Path("Tests/Fixtures/images")


def png(width, height, color_type, rows):
    """A PNG of 8-bit samples: color_type 0 gray, 2 RGB, 6 RGBA; rows are bytes per row."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + row for row in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    data = gzip.open("Data/mnist/t10k-images-idx3-ubyte.gz").read()[16:]
    labels = gzip.open("Data/mnist/t10k-labels-idx1-ubyte.gz").read()[8:]
    for index in range(3):
        pixels = data[index * 784:(index + 1) * 784]
        rows = [pixels[r * 28:(r + 1) * 28] for r in range(28)]
        name = f"test{index}-label{labels[index]}"
        (OUT / f"{name}-gray.png").write_bytes(png(28, 28, 0, rows))
        (OUT / f"{name}.raw").write_bytes(pixels)
        if index == 0:
            (OUT / f"{name}-rgb.png").write_bytes(png(28, 28, 2, [bytes(v for p in row for v in (p, p, p)) for row in rows]))
            # Fully opaque alpha: the decoded gray must equal the original.
            (OUT / f"{name}-rgba.png").write_bytes(png(28, 28, 6, [bytes(v for p in row for v in (p, p, p, 255)) for row in rows]))
    (OUT / "wrong-size-10x12.png").write_bytes(png(10, 12, 0, [bytes(10)] * 12))
    good = png(28, 28, 0, [bytes(28)] * 28)
    (OUT / "truncated.png").write_bytes(good[:len(good) // 2])


if __name__ == "__main__":
    main()
