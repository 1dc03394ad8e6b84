"""Writes the tables of `vmath::exp`: for j = 0..15, 2^(j/16) as a double
`hi` (bits, less j << 48, so that adding k << 48 for k = 16·e + j gives the
bits of hi · 2^e) and the relative tail (2^(j/16) - hi) / hi as a double,
from 60-digit decimal arithmetic.

Usage: python3 crates/runtime/tools/gen_exp_table.py  (prints the Rust tables)
"""
import struct
from decimal import Decimal, getcontext

getcontext().prec = 60
N = 16
SHIFT = 48  # 52 - log2(N)
LN2 = Decimal(2).ln()


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


tails, his = [], []
for j in range(N):
    t = (LN2 * j / N).exp()
    hi = float(t)  # correctly rounded
    tails.append(bits(float((t - Decimal(hi)) / Decimal(hi))))
    his.append((bits(hi) - (j << SHIFT)) % 2**64)

for name, vals in [("EXP_TAIL", tails), ("EXP_HI", his)]:
    print(f"const {name}: [u64; {N}] = [")
    for k in range(0, N, 4):
        print("    " + ", ".join(f"0x{v:016x}" for v in vals[k:k + 4]) + ",")
    print("];")
