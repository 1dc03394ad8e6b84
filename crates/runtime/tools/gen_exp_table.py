"""Writes the table of `vmath::exp`: for j = 0..127, 2^(j/128) as a double
`hi` (bits, less j << 45, so that adding k << 45 for k = 128·e + j gives
the bits of hi · 2^e) and the relative tail (2^(j/128) - hi) / hi as a
double, from 60-digit decimal arithmetic.

Usage: python3 crates/runtime/tools/gen_exp_table.py  (prints the Rust table)
"""
import struct
from decimal import Decimal, getcontext

getcontext().prec = 60
N = 128
LN2 = Decimal(2).ln()


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


rows = []
for j in range(N):
    t = (LN2 * j / N).exp()
    hi = float(t)  # correctly rounded
    tail = float((t - Decimal(hi)) / Decimal(hi))
    rows.append((bits(tail), (bits(hi) - (j << 45)) % 2**64))

print(f"const EXP_TABLE: [u64; {2 * N}] = [")
for tail, hi in rows:
    print(f"    0x{tail:016x}, 0x{hi:016x},")
print("];")
