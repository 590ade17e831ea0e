"""Input tables: the customers book, open invoices and the payment history; readers
(CSV, Parquet, Excel), cell parsing and every check, each problem naming row, id, value, rule
and fix; delay calibration from the payment history.

``from portsim.data import Book, read_book`` — the modules are :mod:`.book` (the container
and its readers), :mod:`.book_rules` (its columns and value checks), :mod:`.invoices`,
:mod:`.calibrate`, :mod:`.suppliers` (the optional supplier table), and the parts every
table shares: :mod:`.readers` (files), :mod:`.dialect` (a CSV file's encoding, delimiter
and number format), :mod:`.cells` (cell parsing and hints), :mod:`.currency` (currency
columns and FX rates), :mod:`.dates`, :mod:`.problems` (the collector) and :mod:`.table`
(header, blank rows, repeated ids).
"""

from portsim.data.book import Book, BookWarning, book_from_frame, read_book
from portsim.data.book_rules import BOOK_COLUMNS, DELAY_COLUMNS, REQUIRED_COLUMNS
from portsim.data.calibrate import (
    DelayEstimates,
    calibrate_delays,
    estimate_delays,
    history_from_frame,
    read_history,
    write_calibrated_book,
)
from portsim.data.currency import Currencies
from portsim.data.invoices import (
    HISTORY_COLUMNS,
    INVOICE_COLUMNS,
    exposure_differences,
    invoice_table_from_frame,
    invoices_from_frame,
    read_invoice_table,
    read_invoices,
)
from portsim.data.problems import MAX_LISTED_PROBLEMS
from portsim.data.suppliers import SUPPLIER_COLUMNS, SupplierTable, read_suppliers

__all__ = [
    "BOOK_COLUMNS",
    "DELAY_COLUMNS",
    "HISTORY_COLUMNS",
    "INVOICE_COLUMNS",
    "MAX_LISTED_PROBLEMS",
    "REQUIRED_COLUMNS",
    "SUPPLIER_COLUMNS",
    "Book",
    "BookWarning",
    "Currencies",
    "DelayEstimates",
    "SupplierTable",
    "book_from_frame",
    "calibrate_delays",
    "estimate_delays",
    "exposure_differences",
    "history_from_frame",
    "invoice_table_from_frame",
    "invoices_from_frame",
    "read_book",
    "read_history",
    "read_invoice_table",
    "read_invoices",
    "read_suppliers",
    "write_calibrated_book",
]
