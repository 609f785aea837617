"""Parcels: each block cut into lots by its land use, their vertices, codes, owners, sheet and parcel numbers,
addresses and certificate dates."""
import math

import numpy as np

from bench.data.parcels.blocks import choice_rows, rotate
from bench.data.parcels.districts import District
from bench.data.parcels.landuse import (CATS, CI, CODE_I, CODES, FILL, FILL_DEFAULT, FILL_PUBLIC, OWNER_P, PUBLIC,
                                        STRIPS)


_DAY0 = np.datetime64("1995-01-01")
_DAY_LAST = np.datetime64("2025-06-30")   # before the 1 July 2025 reorganisation
DAYS = np.arange(_DAY0, _DAY_LAST + np.timedelta64(1, "D")).astype(str)


def issue_dates(rng, n: int) -> np.ndarray:
    """Index into DAYS: a wave of first certificates around 2000-2010, re-issues later."""
    r = rng.random(n)
    years = np.where(r < 0.55, rng.normal(2004, 5.0, n), rng.normal(2016, 5.0, n))
    days = ((years - 1995) * 365.25).astype(np.int64)
    bad = (r >= 0.85) | (days < 0) | (days >= len(DAYS))     # + 15 % uniform background
    days[bad] = rng.integers(0, len(DAYS), bad.sum())
    return days


def make_parcels(d: District, n_target: int, seed: int) -> dict:
    """All attributes and vertices of the n_target parcels of district d (sorted)."""
    rng = np.random.default_rng([seed, d.code, 2])
    b = d.blocks
    p = d.profile
    perm = rng.permutation(len(b["x"]))
    cum = np.cumsum(b["nlots"][perm])
    k = int(np.searchsorted(cum, n_target)) + 1
    sel = perm[:k]
    nl = b["nlots"][sel]
    blk = np.repeat(sel, nl)
    start = np.repeat(np.cumsum(nl) - nl, nl)
    sub = np.arange(len(blk)) - start                  # lot index inside its block
    blk, sub = blk[:n_target], sub[:n_target]
    n = len(blk)

    L, H, main_h = b["L"][blk], b["H"][blk], b["main_h"][blk]
    cols, rows, strip, cat = b["cols"][blk], b["rows"][blk], b["strip"][blk], b["cat"][blk]
    is_strip = (strip > 0) & (sub == cols * rows)       # the strip is the block's last lot

    # --- lot rectangle in block coordinates (origin = block centre, x along the block)
    col = sub % cols
    row = sub // cols
    cw = L / cols
    ch = main_h / rows
    fx = np.empty(n)
    fy = np.empty(n)
    for c in CATS:
        m = cat == CI[c]
        (ax, bx_), (ay, by_) = FILL.get(c, FILL_PUBLIC if c in PUBLIC else FILL_DEFAULT)
        fx[m] = rng.uniform(ax, bx_, m.sum())
        fy[m] = rng.uniform(ay, by_, m.sum())
    pw, ph = cw * fx, ch * fy
    cx = -L / 2 + (col + 0.5) * cw + (cw - pw) / 2 * rng.uniform(-0.8, 0.8, n)
    cy = H / 2 - main_h + (row + 0.5) * ch + (ch - ph) / 2 * rng.uniform(-0.8, 0.8, n)
    # strip parcel (road / canal / river) along the lower edge
    sw = b["strip_w"][blk]
    pw = np.where(is_strip, L * rng.uniform(0.97, 0.995, n), pw)
    ph = np.where(is_strip, sw, ph)
    cx = np.where(is_strip, 0.0, cx)
    cy = np.where(is_strip, -H / 2 + sw / 2, cy)

    # --- 6 candidate vertices: 4 perturbed corners + a kink on the right and left side
    jx, jy = 0.04 * pw, 0.04 * ph
    vx = np.empty((n, 6))
    vy = np.empty((n, 6))
    for i, (sx, sy) in zip((0, 1, 3, 4), ((-1, -1), (1, -1), (1, 1), (-1, 1))):
        vx[:, i] = sx * pw / 2 + jx * rng.uniform(-1, 1, n)
        vy[:, i] = sy * ph / 2 + jy * rng.uniform(-1, 1, n)
    for i, a, z, sgn in ((2, 1, 3, 1), (5, 4, 0, -1)):
        t = rng.uniform(0.3, 0.7, n)
        vx[:, i] = vx[:, a] + t * (vx[:, z] - vx[:, a]) + sgn * 0.03 * pw * rng.uniform(-1, 1, n)
        vy[:, i] = vy[:, a] + t * (vy[:, z] - vy[:, a])
    u6 = rng.random(n)
    nv = np.where(u6 < 0.12, 6, np.where(u6 < 0.37, 5, 4)).astype(np.int8)
    # to map coordinates (cm precision)
    ang = b["ang"][blk][:, None]
    rx, ry = rotate(vx + cx[:, None], vy + cy[:, None], ang)
    X = np.round(rx + b["x"][blk][:, None], 2)
    Y = np.round(ry + b["y"][blk][:, None], 2)

    # area of the rounded ring (shoelace on coordinates relative to the first vertex)
    area = np.zeros(n)
    for k_, idx in ((4, [0, 1, 3, 4]), (5, [0, 1, 2, 3, 4]), (6, [0, 1, 2, 3, 4, 5])):
        m = nv == k_
        xs = X[m][:, idx] - X[m][:, :1]
        ys = Y[m][:, idx] - Y[m][:, :1]
        area[m] = 0.5 * np.abs((xs * np.roll(ys, -1, axis=1) - np.roll(xs, -1, axis=1) * ys).sum(axis=1))

    # --- land-use code
    ward = b["ward"][blk]
    names = b["names"]
    is_xa = np.array([w.startswith("Xã") for w in names])[ward]
    code = np.empty(n, np.int8)
    cat_to_code = np.array([CODE_I["ODT"] if c == "RES" else CODE_I[c] for c in CATS])
    code[:] = cat_to_code[cat]
    res = cat == CI["RES"]
    code[res & is_xa] = CODE_I["ONT"]
    r = rng.random(n)
    code[res & ~is_xa & (r < p.res_variant)] = CODE_I["TMD"]
    code[res & is_xa & (r < 0.15)] = CODE_I["CLN"]
    code[(cat == CI["LUC"]) & (r < 0.12)] = CODE_I["LUK"]
    code[(cat == CI["CLN"]) & (r < 0.05)] = CODE_I["BHK"]
    for k_, s in enumerate(STRIPS[1:], start=1):
        code[is_strip & (strip == k_)] = CODE_I[s]

    # --- owner type
    owner_p = np.array([OWNER_P[c] for c in CODES])
    owner = choice_rows(rng, owner_p[code]).astype(np.int8)

    # --- map sheets (so_to) per ward and parcel numbers (so_thua) per sheet
    px = X[:, [0, 1, 3, 4]].mean(axis=1)
    py = Y[:, [0, 1, 3, 4]].mean(axis=1)
    so_to = np.zeros(n, np.int32)
    kv = np.zeros(n, np.int16)
    for w in range(len(names)):
        m = np.flatnonzero(ward == w)
        if not len(m):
            continue
        size = p.sheet
        while True:
            sc = np.floor(px[m] / size).astype(np.int64)
            sr = np.floor(py[m] / size).astype(np.int64)
            key = (-sr) * 10_000_000 + sc                 # north-west first
            uniq, inv = np.unique(key, return_inverse=True)
            if len(uniq) <= 120:
                break
            size *= 2
        so_to[m] = inv + 1
        n_kv = int(np.clip(round(1.5 * math.sqrt(len(uniq))), 3, 12))
        kv[m] = 1 + (inv * n_kv) // len(uniq)
    band = np.floor(-py / 20.0)
    order = np.lexsort((px, band, so_to, ward))
    g = ward[order].astype(np.int64) * 1000 + so_to[order]
    first_of_group = np.r_[True, g[1:] != g[:-1]]
    grp_start = np.maximum.accumulate(np.where(first_of_group, np.arange(n), 0))
    so_thua = np.empty(n, np.int32)
    so_thua[order] = np.arange(n) - grp_start + 1

    # --- address: "Khu vực n, Phường X, Quận Y" / "Ấp n, Xã X, Huyện Y"
    addr_vocab = []
    for w in names:
        unit = "Ấp" if not w.startswith("Phường") else "Khu vực"
        addr_vocab.append([f"{unit} {i}, {w}, {d.name}" for i in range(13)])
    addr_vocab = np.array(addr_vocab, dtype=object)

    return dict(order=order, so_to=so_to, so_thua=so_thua, code=code, area=np.round(area, 1),
                owner=owner, addr=addr_vocab[ward, kv], date=issue_dates(rng, n), nv=nv, X=X, Y=Y)
