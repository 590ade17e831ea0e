"""Generate a realistic, seeded customers book for examples, tests and benchmarks.

The book is that of a fictitious mid-size European industrial supplier: a few key accounts
holding about a quarter of the receivables, a long lognormal tail of small customers, PDs by
rating grade, CreditMetrics recoveries, credit and insured limits, sector-flavoured payment
terms. Everything is drawn from ``numpy.random.default_rng(seed)`` and vectorised, so
100,000+ customers take well under a second.

Usage::

    python tools/make_book.py --customers 2000 --seed 20261128 --out configs/example_book.csv
    python tools/make_book.py --customers 100000 --format parquet --out /tmp/big.parquet

Importable without side effects: ``make_book(n_customers, seed) -> pandas.DataFrame``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["COUNTRIES", "RATING_PD", "SECTORS", "make_book", "summarize"]

# Sector → share of customers.
SECTORS: dict[str, float] = {
    "construction": 0.14,
    "retail": 0.09,
    "automotive": 0.15,
    "machinery": 0.17,
    "chemicals": 0.08,
    "food": 0.08,
    "transport": 0.07,
    "electronics": 0.10,
    "healthcare": 0.05,
    "energy": 0.07,
}
# Country → share of customers (a German supplier selling mostly within the EU).
COUNTRIES: dict[str, float] = {
    "DE": 0.38,
    "FR": 0.11,
    "IT": 0.10,
    "ES": 0.06,
    "NL": 0.07,
    "PL": 0.08,
    "AT": 0.06,
    "CN": 0.06,
    "US": 0.08,
}
# 1-year PD by grade. Round figures in the range of published rating-agency average one-year
# corporate default rates (S&P / Moody's long-run averages); not any agency's exact table.
RATING_PD: dict[str, float] = {
    "AAA": 0.0001,
    "AA": 0.0002,
    "A": 0.0006,
    "BBB": 0.002,
    "BB": 0.008,
    "B": 0.03,
    "CCC": 0.15,
}
_GRADES = np.array(list(RATING_PD), dtype=object)
# Grade mix (same order as RATING_PD): mostly BBB/BB/B; key accounts are larger, better firms.
_GRADE_MIX = {
    "standard": [0.003, 0.012, 0.06, 0.30, 0.35, 0.22, 0.055],
    "cyclical": [0.002, 0.008, 0.04, 0.22, 0.36, 0.29, 0.08],  # construction, retail, transport
    "key": [0.02, 0.08, 0.30, 0.45, 0.15, 0.0, 0.0],
}
_CYCLICAL = ("construction", "retail", "transport")

# Recoveries from the CreditMetrics technical document (Carty–Lieberman), see
# docs REFERENCE.md: senior unsecured 51.1 % (sd 25.5 %) → lgd 0.489, lgd_sd 0.255;
# senior secured 53.8 % (sd 26.9 %) → lgd 0.462, lgd_sd 0.269 (retention of title, guarantees).
_LGD_UNSECURED = (0.489, 0.255)
_LGD_SECURED = (0.462, 0.269)
_SECURED_SHARE = 0.15

# Payment terms (days) and their probabilities by sector; construction pays on longer terms.
_TERMS = np.array([30, 45, 60, 90], dtype=np.int64)
_TERMS_MIX = {
    "construction": [0.10, 0.20, 0.40, 0.30],
    "retail": [0.45, 0.25, 0.25, 0.05],
    "automotive": [0.15, 0.25, 0.40, 0.20],
    "healthcare": [0.20, 0.20, 0.35, 0.25],
    "energy": [0.50, 0.25, 0.20, 0.05],
}
_TERMS_DEFAULT = [0.35, 0.25, 0.30, 0.10]

# Names: "<root> <sector word> <legal form>", in the language of the customer's country.
_ROOT_A = np.array(
    "Kel Brun Hof Wal Stein Mar Ber Lin Ros Fer Val Nor Ost Bel Cor Dor Gra Hel Mon Vil "
    "Zan Lau Tor Mül Kör Bä Sal Rie Hag Fal".split(),
    dtype=object,
)
_ROOT_B = np.array(
    "ler ner mann berg ini elli ard ez ova sen tek ton ia ex ano ot ier ski hausen dorf".split(),
    dtype=object,
)
_LANGUAGE = {"DE": "de", "AT": "de", "FR": "fr", "IT": "it", "ES": "es"}
_SECTOR_WORD = {
    "construction": ("Bau", "Construction", "Costruzioni", "Construcciones", "Construction"),
    "retail": ("Handel", "Distribution", "Commercio", "Comercial", "Retail"),
    "automotive": ("Fahrzeugteile", "Automobile", "Automotive", "Automoción", "Automotive"),
    "machinery": ("Maschinenbau", "Machines", "Meccanica", "Maquinaria", "Machinery"),
    "chemicals": ("Chemie", "Chimie", "Chimica", "Química", "Chemicals"),
    "food": ("Lebensmittel", "Alimentaire", "Alimentari", "Alimentación", "Foods"),
    "transport": ("Logistik", "Transports", "Trasporti", "Transportes", "Logistics"),
    "electronics": ("Elektronik", "Électronique", "Elettronica", "Electrónica", "Electronics"),
    "healthcare": ("Medizintechnik", "Santé", "Sanità", "Salud", "Healthcare"),
    "energy": ("Energie", "Énergie", "Energia", "Energía", "Energy"),
}
_LANG_INDEX = {"de": 0, "fr": 1, "it": 2, "es": 3, "en": 4}
_LEGAL_FORMS = {
    "DE": (["GmbH", "AG", "GmbH & Co. KG", "KG"], [0.60, 0.10, 0.25, 0.05]),
    "AT": (["GmbH", "AG"], [0.85, 0.15]),
    "FR": (["SAS", "SA", "SARL"], [0.55, 0.20, 0.25]),
    "IT": (["S.r.l.", "S.p.A."], [0.75, 0.25]),
    "ES": (["S.L.", "S.A."], [0.70, 0.30]),
    "NL": (["B.V.", "N.V."], [0.90, 0.10]),
    "PL": (["Sp. z o.o.", "S.A."], [0.85, 0.15]),
    "CN": (["Co., Ltd."], [1.0]),
    "US": (["Inc.", "LLC", "Corp."], [0.50, 0.35, 0.15]),
}

COLUMNS = [
    "customer_id",
    "name",
    "sector",
    "country",
    "exposure",
    "rating",
    "p_default",
    "lgd",
    "lgd_sd",
    "asset_correlation",
    "credit_limit",
    "insured_limit",
    "payment_terms_days",
    "annual_sales",
]


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Row-wise categorical draw: probs shape (n, k) → indices shape (n,)."""
    u = rng.random(size=int(probs.shape[0]))
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    return (u[:, None] > cum).sum(axis=1)


def _key_account_shares(rng: np.random.Generator, n_key: int) -> np.ndarray:
    """Shares of the whole book held by the key accounts, largest first, shape (n_key,).

    The largest holds 3.5–5.5 %, all n_key together 21–27 % (geometrically decaying).
    """
    largest = rng.uniform(0.035, 0.055)
    together = rng.uniform(0.21, 0.27)
    k = np.arange(n_key)
    target = together / largest  # sum of q**k for k < n_key
    lo, hi = 0.0, 1.0
    for _ in range(60):  # bisection for the decay q
        q = 0.5 * (lo + hi)
        if (q**k).sum() < target:
            lo = q
        else:
            hi = q
    return largest * lo**k


def make_book(n_customers: int, seed: int) -> pd.DataFrame:
    """Draw a customers book.

    Parameters
    ----------
    n_customers : int
        Number of customers (rows), >= 1.
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same frame.

    Returns
    -------
    DataFrame, shape (n_customers, 14)
        The columns of the book spec (``docs/design.md``): money in EUR rounded to cents
        (limits to whole thousands, sales to whole euros), PDs taken from the rating grade,
        ``asset_correlation`` NaN (blank in CSV) for most customers.
    """
    if int(n_customers) != n_customers or n_customers < 1:
        raise ValueError(f"n_customers must be a positive integer, got {n_customers!r}")
    n = int(n_customers)
    rng = np.random.default_rng(seed)

    sector_names = np.array(list(SECTORS), dtype=object)
    sector = sector_names[rng.choice(len(SECTORS), size=n, p=list(SECTORS.values()))]
    country_names = np.array(list(COUNTRIES), dtype=object)
    country = country_names[rng.choice(len(COUNTRIES), size=n, p=list(COUNTRIES.values()))]

    # Exposure: lognormal tail (median ~9,000 EUR) plus key accounts with set shares.
    n_key = min(10, n // 50)
    key = np.zeros(n, dtype=bool)
    key[rng.choice(n, size=n_key, replace=False)] = True
    raw = rng.lognormal(mean=np.log(9_000.0), sigma=1.25, size=n)
    if n_key:
        shares = _key_account_shares(rng, n_key)
        total = raw[~key].sum() / (1.0 - shares.sum())
        raw[np.flatnonzero(key)] = shares * total
    paid_up = ~key & (rng.random(n) < 0.015)  # nothing open at the as-of date
    exposure = np.where(paid_up, 0.0, np.round(raw, 2))

    # Ratings and PDs by grade.
    mix = np.array(_GRADE_MIX["standard"])[None, :].repeat(n, axis=0)
    mix[np.isin(sector, _CYCLICAL)] = _GRADE_MIX["cyclical"]
    mix[key] = _GRADE_MIX["key"]
    rating = _GRADES[_pick(rng, mix)]
    p_default = np.array([RATING_PD[g] for g in _GRADES])[_pick_index(rating)]

    # LGD: CreditMetrics senior unsecured for most, senior secured for some.
    secured = ~key & (rng.random(n) < _SECURED_SHARE)
    lgd = np.where(secured, _LGD_SECURED[0], _LGD_UNSECURED[0])
    lgd_sd = np.where(secured, _LGD_SECURED[1], _LGD_UNSECURED[1])

    # Asset correlation given for the key accounts and ~2 % of the rest; blank → Basel.
    given_r = key | (rng.random(n) < 0.02)
    r_value = np.where(key, rng.uniform(0.18, 0.30, n), rng.uniform(0.08, 0.24, n))
    asset_correlation = np.where(given_r, np.round(r_value, 2), np.nan)

    # Limits (whole thousands): most above the exposure, ~6 % over limit.
    over = rng.random(n) < 0.06
    head_room = np.where(over, rng.uniform(0.60, 0.95, n), rng.uniform(1.15, 2.0, n))
    limit_base = raw * head_room / 1000.0
    credit_limit = (np.where(over, np.floor(limit_base), np.ceil(limit_base)) * 1000).astype(
        np.int64
    )
    big = raw >= np.median(raw)
    insured = rng.random(n) < np.where(big, 0.85, 0.55)  # ~70 %; small unnamed buyers not
    cover = np.where(key, rng.uniform(0.3, 0.8, n), rng.uniform(0.6, 1.0, n))
    insured_limit = np.where(insured, np.floor(credit_limit * cover / 1000.0) * 1000, 0).astype(
        np.int64
    )

    # Payment terms by sector (one bucket longer in China: Coface terms ~70 days) and sales
    # ≈ exposure · 365 / (terms + delay), delay ~15 days (longer in construction and China).
    terms_mix = np.array([_TERMS_MIX.get(s, _TERMS_DEFAULT) for s in SECTORS])
    terms_idx = _pick(rng, terms_mix[_pick_index(sector, sector_names)])
    terms_idx = np.where(country == "CN", np.minimum(terms_idx + 1, 3), terms_idx)
    terms = _TERMS[terms_idx]
    delay_mean = np.where(country == "CN", 40.0, np.where(sector == "construction", 25.0, 15.0))
    delay = rng.gamma(shape=2.0, scale=delay_mean / 2.0)
    noise = rng.lognormal(mean=0.0, sigma=0.25, size=n)
    annual_sales = np.round(raw * 365.0 / (terms + delay) * noise).astype(np.int64)

    names = _names(rng, sector, country)
    if n >= 1:
        names[0] = f"Keller & Söhne {_SECTOR_WORD[str(sector[0])][4]} GmbH"
    if n >= 2:  # the collective account for small buyers, as ERPs often name it
        names[1] = "Diverse Kleinkunden <unbenannt>"
        insured_limit[1] = 0

    width = max(5, len(str(n)))
    ids = ("C" + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(width)).to_numpy(object)
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "name": names,
            "sector": sector,
            "country": country,
            "exposure": exposure,
            "rating": rating,
            "p_default": p_default,
            "lgd": lgd,
            "lgd_sd": lgd_sd,
            "asset_correlation": asset_correlation,
            "credit_limit": credit_limit,
            "insured_limit": insured_limit,
            "payment_terms_days": terms,
            "annual_sales": annual_sales,
        }
    )
    return frame[COLUMNS]


def _pick_index(values: np.ndarray, vocabulary: np.ndarray | None = None) -> np.ndarray:
    """Index of each value in vocabulary (default: the rating grades)."""
    vocab = _GRADES if vocabulary is None else vocabulary
    lookup = {v: i for i, v in enumerate(vocab)}
    return pd.Series(values, dtype=object).map(lookup).to_numpy(dtype=np.int64)


def _names(rng: np.random.Generator, sector: np.ndarray, country: np.ndarray) -> np.ndarray:
    n = int(sector.shape[0])
    root = _ROOT_A[rng.integers(0, _ROOT_A.size, n)] + _ROOT_B[rng.integers(0, _ROOT_B.size, n)]
    lang = pd.Series(country, dtype=object).map(_LANGUAGE).fillna("en")
    lang_idx = lang.map(_LANG_INDEX).to_numpy(dtype=np.int64)
    words = np.array([_SECTOR_WORD[s] for s in SECTORS], dtype=object)  # (n_sectors, 5)
    word = words[_pick_index(sector, np.array(list(SECTORS), dtype=object)), lang_idx]
    form = np.empty(n, dtype=object)
    u = rng.random(size=n)
    for code, (forms, probs) in _LEGAL_FORMS.items():
        here = country == code
        cum = np.cumsum(probs)
        form[here] = np.array(forms, dtype=object)[
            np.minimum(np.searchsorted(cum, u[here]), len(forms) - 1)
        ]
    return (
        pd.Series(root, dtype=object) + " " + pd.Series(word, dtype=object) + " " + form
    ).to_numpy(dtype=object, copy=True)


def summarize(frame: pd.DataFrame) -> dict[str, object]:
    """Headline numbers of a book frame: size, total exposure, concentration, mix."""
    exposure = frame["exposure"].to_numpy(dtype=np.float64)
    total = float(exposure.sum())
    top = np.sort(exposure)[::-1]
    return {
        "n_customers": len(frame),
        "total_exposure": total,
        "top10_share": float(top[:10].sum() / total) if total else 0.0,
        "largest_share": float(top[0] / total) if total else 0.0,
        "sectors": frame["sector"].value_counts().to_dict(),
        "countries": frame["country"].value_counts().to_dict(),
        "ratings": frame["rating"].value_counts().reindex(list(RATING_PD), fill_value=0).to_dict(),
        "insured_share": float((frame["insured_limit"] > 0).mean()),
    }


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000, help="number of customers")
    parser.add_argument("--seed", type=int, default=20261128, help="random seed")
    parser.add_argument("--out", type=Path, default=None, help="output file")
    parser.add_argument(
        "--format", choices=("csv", "parquet"), default=None, help="default: from --out"
    )
    args = parser.parse_args(argv)
    fmt = args.format or ("parquet" if args.out and args.out.suffix == ".parquet" else "csv")
    out = args.out or Path(f"configs/example_book.{fmt}")
    if args.customers < 1:
        parser.error("--customers must be at least 1")

    frame = make_book(args.customers, args.seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False, lineterminator="\n", encoding="utf-8")

    s = summarize(frame)
    size = out.stat().st_size
    print(f"wrote {out} ({fmt}, {size / 1024:.0f} KiB)")
    print(f"customers       {s['n_customers']:,}")
    print(f"total exposure  EUR {s['total_exposure']:,.2f}")
    print(f"top-10 share    {s['top10_share']:.1%} (largest {s['largest_share']:.1%})")
    print(f"insured         {s['insured_share']:.0%} of customers")
    for key in ("sectors", "countries", "ratings"):
        counts = s[key]
        assert isinstance(counts, dict)
        print(f"{key:<15} " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
