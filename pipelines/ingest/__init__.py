"""Step 1, ingest: the input folder in, one typed table per dataset out.

Takes: the input folder (one file per dataset, config/datasets.yaml) and the configuration.
Gives: per dataset the loaded rows (`norm_<dataset>.parquet` in the run's work folder: columns
as written and typed, plus the person columns `p_*` with repaired IDs and normalised names),
the quarantined rows with their reasons, and the facts the manifest reports.

- `dataset.py`: find the files, check every header first, map aliases, quarantine;
- `columns.py`: type and normalise a dataset's columns;
- `ids.py`, `names.py`, `dates.py`, `phones.py`, `divisions.py`: how each kind of value is
  repaired, normalised and compared (also used by linkage and the generator).
File reading itself is I/O: `pipelines/io/readers.py`, `layout.py`, `workbooks.py`.
"""
