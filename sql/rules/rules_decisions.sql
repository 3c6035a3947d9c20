-- rules_decisions: the effective decision per finding: the latest by decided_at, then the
-- latest in file order. inputs: decisions_in (decisions_from_review or decisions_from_file).
-- grain: finding. key: finding_id.
SELECT finding_id, decision, decided_by, decided_at, reason, approved_by, effective_from, source
FROM (SELECT *, row_number() OVER (PARTITION BY finding_id
                                   ORDER BY decided_at DESC NULLS LAST, _order DESC) AS n
      FROM decisions_in)
WHERE n = 1
ORDER BY finding_id
