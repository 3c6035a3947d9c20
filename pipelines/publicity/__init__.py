"""Publicity (公示): masked lists per community from a stored audit (`dibao-audit publish`).

Takes: an audit recorded in the warehouse and its output folder. Gives: `publicity/` (XLSX and
PDF per street-community, the city workbook) and `decided/` (remove and add lists of confirmed
cases). `lists.py` builds and writes the lists; `publish.py` is the command's entry point.
Rendering lives in `pipelines/io/publicity_pdf.py` and `publicity_xlsx.py`.
"""
