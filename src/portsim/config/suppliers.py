"""The ``[suppliers]`` table: the optional supplier table of a run, whose defaults are driven by
the customers' factor model and whose failures enter the cash timeline (see
:mod:`portsim.inputs.suppliers` and :mod:`portsim.kernels.suppliers`)."""

from __future__ import annotations

from pydantic import Field

from portsim.config.book import TableDialect

__all__ = ["SuppliersConfig"]


class SuppliersConfig(TableDialect):
    """Where the supplier table is and how to read it (needs a ``[timeline]``).

    The CSV keys (:class:`~portsim.config.book.TableDialect`) fall back to ``[book]``'s; the
    ``rating`` column is looked up in ``[book.ratings]`` and the ``sector`` column checked
    against ``[book] sectors``, as for the customers.
    """

    path: str = Field(description="supplier table (.csv, .parquet, .xlsx), relative to the "
                      "config: supplier_id, sector, country, p_default or rating, prepayment, "
                      "monthly_purchases, replacement_months, dependent_sales_share, "
                      "replacement_premium")
