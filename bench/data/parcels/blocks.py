"""Blocks: a rotated, jittered grid over each district, fictional wards, and each block's land use; the plan
that sizes the blocks to the parcel count asked."""
import math

import numpy as np
import shapely
import shapely.affinity

from bench.data.parcels.districts import WARDS, District
from bench.data.parcels.landuse import CATS, PROFILES, STRIPS, WHOLE, Profile


def rotate(x, y, a):
    c, s = np.cos(a), np.sin(a)
    return x * c - y * s, x * s + y * c


def choice_rows(rng, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) probability matrix."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    r = rng.random(len(probs))[:, None]
    return np.minimum((r > cum).sum(axis=1), probs.shape[1] - 1)


def _kmeans(rng, pts: np.ndarray, k: int, iters: int = 12) -> np.ndarray:
    sample = pts[rng.choice(len(pts), size=min(len(pts), 20000), replace=False)]
    cent = sample[rng.choice(len(sample), size=k, replace=False)].copy()
    for _ in range(iters):
        lab = np.argmin(((sample[:, None, :] - cent[None]) ** 2).sum(-1), axis=1)
        for j in range(k):
            sel = sample[lab == j]
            if len(sel):
                cent[j] = sel.mean(axis=0)
    return cent


def ward_strength(p: Profile, i: int, name: str) -> float:
    """How urban the centre of ward i is (1 = town centre)."""
    if i == 0 or p is PROFILES["urban"]:
        return 1.0
    if name.startswith("Xã"):
        return 0.5
    if name.startswith("Thị trấn"):
        return 0.85
    return 0.6 if p is PROFILES["town"] else 0.9


def _dist_to_lines(rng, v: np.ndarray, lo: float, hi: float, spacing: float) -> np.ndarray:
    """Distance of v to irregularly spaced lines between lo and hi."""
    lines = lo + np.cumsum(spacing * rng.uniform(0.6, 1.4, int((hi - lo) / (0.6 * spacing)) + 2))
    i = np.clip(np.searchsorted(lines, v), 1, len(lines) - 1)
    return np.minimum(np.abs(v - lines[i - 1]), np.abs(lines[i] - v))


def _smooth_noise(rng, x: np.ndarray, y: np.ndarray, cell: float, k: int) -> np.ndarray:
    """k independent N(0,1)-ish fields, bilinear on a grid of `cell` m, sampled at (x, y)."""
    gx = (x - x.min()) / cell
    gy = (y - y.min()) / cell
    ix, iy = gx.astype(int), gy.astype(int)
    fx, fy = (gx - ix)[:, None], (gy - iy)[:, None]
    g = rng.normal(0, 1, (iy.max() + 2, ix.max() + 2, k))
    return ((g[iy, ix] * (1 - fx) + g[iy, ix + 1] * fx) * (1 - fy)
            + (g[iy + 1, ix] * (1 - fx) + g[iy + 1, ix + 1] * fx) * fy) * 1.5


def make_blocks(d: District, scale: float, seed: int) -> dict:
    """Blocks covering district d (same seed and scale -> same layout)."""
    rng = np.random.default_rng([seed, d.code, 1])
    p = d.profile
    bx, by = p.block[0] * scale, p.block[1] * scale
    gx, gy = p.gap[0] * math.sqrt(scale), p.gap[1] * math.sqrt(scale)
    c = d.geom.centroid
    cx0, cy0 = c.x, c.y
    local = shapely.affinity.rotate(d.geom, -d.theta, origin=(cx0, cy0), use_radians=True)
    minx, miny, maxx, maxy = local.bounds
    minx, miny, maxx, maxy = minx - cx0, miny - cy0, maxx - cx0, maxy - cy0

    nrows = int((maxy - miny) / (0.85 * by + gy)) + 2
    heights = by * rng.uniform(0.85, 1.15, nrows)
    y0 = miny + np.cumsum(heights + gy) - (heights + gy)
    ncols = int((maxx - minx) / (0.75 * bx + gx)) + 3
    lengths = bx * rng.uniform(0.75, 1.25, (nrows, ncols))
    x0 = (minx - rng.uniform(0, bx, nrows))[:, None] + np.cumsum(lengths + gx, axis=1) - (lengths + gx)
    H = np.broadcast_to(heights[:, None], lengths.shape)
    lx = (x0 + lengths / 2).ravel()
    ly = np.broadcast_to((y0 + heights / 2)[:, None], lengths.shape).ravel()
    L = lengths.ravel()
    H = H.ravel()
    ok = (lx - L / 2 < maxx) & (ly - H / 2 < maxy)
    lx, ly, L, H = lx[ok], ly[ok], L[ok], H[ok]
    n = len(lx)
    ang = d.theta + np.radians(np.clip(rng.normal(0, 0.8, n), -1.5, 1.5))
    mx, my = rotate(lx, ly, d.theta)
    mx += cx0
    my += cy0
    inside = np.ones(n, bool)
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        qx, qy = rotate(sx * L / 2, sy * H / 2, ang)
        inside &= shapely.contains_xy(d.geom, mx + qx, my + qy)
    mx, my, L, H, ang = mx[inside], my[inside], L[inside], H[inside], ang[inside]
    lx, ly = lx[inside], ly[inside]
    n = len(mx)

    # Fictional wards: Voronoi cells of k-means seeds over the blocks.
    names = WARDS[d.code]
    seeds = _kmeans(rng, np.column_stack([mx, my]), len(names))
    first = int(np.argmin(np.hypot(seeds[:, 0] - cx0, seeds[:, 1] - cy0)))
    order = [first] + [int(i) for i in rng.permutation([i for i in range(len(names)) if i != first])]
    seeds = seeds[order]
    dist2 = (mx[:, None] - seeds[None, :, 0]) ** 2 + (my[:, None] - seeds[None, :, 1]) ** 2
    ward = np.argmin(dist2, axis=1).astype(np.int16)
    dist = np.sqrt(dist2[np.arange(n), ward])
    strength = np.array([ward_strength(d.profile, i, w) for i, w in enumerate(names)])
    r = 0.5 * math.sqrt(d.geom.area / len(names))
    u = strength[ward] * np.exp(-(dist / r) ** 2)
    # Settlements of the delta are ribbons along canals and roads: main canals follow the
    # block rows (every p.canal[0] m), cross canals the columns (every p.canal[1] m).
    dy = _dist_to_lines(rng, ly, miny, maxy, p.canal[0] * scale)
    dx = _dist_to_lines(rng, lx, minx, maxx, p.canal[1] * scale)
    near = np.minimum(dy, dx) < 0.6 * by
    u = np.maximum(u, np.where(near, p.canal_u, 0.0))
    if d.profile is PROFILES["urban"]:
        u = np.maximum(u, 0.35)

    core, peri = np.array(p.core), np.array(p.peri)
    # Spatially correlated preferences -> patches of rice, orchards, ponds ... not salt and pepper
    patch = np.exp(0.9 * _smooth_noise(rng, lx, ly, 450 * scale, len(CATS)))
    cat = choice_rows(rng, (u[:, None] * core + (1 - u[:, None]) * peri) * patch).astype(np.int8)
    s_core, s_peri = np.array(p.strip_core), np.array(p.strip_peri)
    sp = u[:, None] * s_core + (1 - u[:, None]) * s_peri
    sp[near] = [0.25, 0.30, 0.10]
    strip = choice_rows(rng, np.column_stack([1 - sp.sum(axis=1), sp])).astype(np.int8)
    strip_w = np.zeros(n)
    for k, s in enumerate(STRIPS[1:], start=1):
        m = strip == k
        w = p.strip_w[s] * math.sqrt(scale) * rng.uniform(0.8, 1.25, m.sum())
        strip_w[m] = np.minimum(w, 0.45 * H[m])
    main_h = H - np.where(strip > 0, strip_w + 1.0, 0.0)

    lot_w = np.array([p.lot.get(c, (WHOLE, 1))[0] for c in CATS]) * scale
    lot_rows = np.array([p.lot.get(c, (WHOLE, 1))[1] for c in CATS])
    cols = np.maximum(1, np.rint(L / lot_w[cat])).astype(np.int32)
    rows = lot_rows[cat].astype(np.int32)
    nlots = cols * rows + (strip > 0)
    return dict(x=mx, y=my, L=L, H=H, main_h=main_h, ang=ang, ward=ward, cat=cat,
                strip=strip, strip_w=strip_w, cols=cols, rows=rows, nlots=nlots,
                names=names)


def plan(districts: list[District], count: int, seed: int) -> tuple[float, list[int]]:
    """Block layouts for all districts and the parcel count of each district."""
    scale = 1.0
    for _ in range(12):
        for d in districts:
            d.blocks = make_blocks(d, scale, seed)
            d.capacity = int(d.blocks["nlots"].sum())
        total = sum(d.capacity for d in districts)
        if total >= count:
            break
        scale *= math.sqrt(total / count) * 0.97
    else:
        raise SystemExit(f"cannot fit {count} parcels (capacity {total})")
    caps = np.array([d.capacity for d in districts], float)
    share = count * caps / caps.sum()
    n = np.floor(share).astype(int)
    for i in np.argsort(-(share - n))[: count - n.sum()]:
        n[i] += 1
    assert n.sum() == count and (n <= caps).all()
    return scale, n.tolist()
