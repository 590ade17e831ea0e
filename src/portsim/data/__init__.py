"""Input tables: the customers book, open invoices and the payment history; readers
(CSV, Parquet, Excel), cell parsing and every check, each problem naming row, id, value, rule
and fix; delay calibration from the payment history."""
