"""How long a scene photo takes to check and re-encode (issue 19): a phone-sized JPEG with EXIF GPS
through :func:`precinct.command.attachments.reencode` (header check, reduced-scale decode, upright,
metadata dropped, JPEG q88), median of N runs per size.

Usage: ``./dev bench attachments_reencode [--runs 5]``
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import time

from PIL import Image

from precinct.command.attachments import reencode

SIZES = [(1600, 1200), (4000, 3000), (8160, 6120)]  # 2 MP, 12 MP (common phone), 50 MP (large phone)


def photo(w: int, h: int) -> bytes:
    im = Image.radial_gradient("L").resize((w, h)).convert("RGB")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (32.0, 29.0, 24.0), 3: "E", 4: (119.0, 55.0, 12.0)}
    out = io.BytesIO()
    im.save(out, format="JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"Pillow {Image.__version__}")
    print("| photo | upload bytes | stored | stored bytes | median s | min s |")
    print("|---|---|---|---|---|---|")
    for w, h in SIZES:
        data = photo(w, h)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            enc = reencode(data, "image/jpeg", keep_location=False)
            times.append(time.perf_counter() - t0)
        print(f"| {w}×{h} ({w * h / 1e6:.0f} MP) | {len(data):,} | {enc.width}×{enc.height} | {len(enc.data):,} | "
              f"{statistics.median(times):.3f} | {min(times):.3f} |")


if __name__ == "__main__":
    main()
