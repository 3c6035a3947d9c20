"""Step 3, link: which roll member each evidence record is about.

Takes: the `norm_<dataset>` tables. Gives: `roll_people` (the roll's people, the roll linked
with itself and merged), `links_<dataset>` (record_id, member, score, evidence words) and link
statistics per dataset. `linker.py` blocks and decides; `scoring.py` compares fields.
"""
