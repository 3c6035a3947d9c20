"""Step 4, rules: the finding codes applied to the linked roll.

Takes: the `norm_<dataset>` tables, `roll_people`, `links` and the decisions read at the run's
start. Gives: `findings` (one row per subject and code), the remove and add lists, and
`findings_checks` (which codes ran, were skipped, and why).

- `policy.py`: config/rules.yaml as typed models, resolved per district, category and date;
- `runner.py`: runs each code's SQL (sql/rules/) and merges the evidence;
- `findings.py`: one finding per (subject, code), ranking, the lists;
- `staff.py`: approvers and declared relatives; `decisions.py`: review decisions in;
  `tables.py`: creating stage tables from SQL files.
"""
