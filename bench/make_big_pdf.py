#!/usr/bin/env python3
"""Writes a valid one-page PDF of about SIZE_MB megabytes (default 1024) to PATH, streaming,
so the benchmark can measure the signer's peak memory on a 1 GB contract.

The bulk is an uncompressed image XObject drawn on the page, so the file is an ordinary PDF
(no unreferenced padding) and every byte is part of the document."""
import sys

def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: make_big_pdf.py PATH [SIZE_MB]")
    path = sys.argv[1]
    size_mb = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    # A gray image of width 4096 and enough rows to reach the size.
    width = 4096
    rows = max(1, size_mb * 1024 * 1024 // width)
    data_len = width * rows
    offsets = {}
    with open(path, "wb") as f:
        def obj(num: int, body: bytes) -> None:
            offsets[num] = f.tell()
            f.write(b"%d 0 obj\n" % num + body + b"\nendobj\n")
        f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        obj(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
        obj(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>")
        content = b"q 595 0 0 842 0 0 cm /Im1 Do Q"
        obj(4, b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        offsets[5] = f.tell()
        f.write(b"5 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Length %d >>\nstream\n" % (width, rows, data_len))
        row = bytes((x * 7) & 0xFF for x in range(width))
        chunk = row * 256
        left = data_len
        while left > 0:
            n = min(left, len(chunk))
            f.write(chunk[:n])
            left -= n
        f.write(b"\nendstream\nendobj\n")
        xref = f.tell()
        f.write(b"xref\n0 6\n0000000000 65535 f \n")
        for i in range(1, 6):
            f.write(b"%010d 00000 n \n" % offsets[i])
        f.write(b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)

if __name__ == "__main__":
    main()
