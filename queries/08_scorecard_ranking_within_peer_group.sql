-- Question: how do units rank against their peers (same urban/rural class and population band,
-- 因地制宜) on the composite and on each of the six dimensions, in the latest month?
-- Mart: mart_scorecard. Ranks are within the scoring peer group (the unit's own, or a wider one when
-- it had too few scored units: peer_group_fallback). Only 'complete' and 'partial' units are ranked;
-- 'insufficient_data', 'too_few_peers' and 'no_data' units are listed last without a rank.
-- rank_min–rank_max: best and worst rank under the sensitivity scenarios.
WITH latest AS (SELECT max(month) AS month FROM marts.mart_scorecard)
SELECT
    s.scoring_peer_group,
    s.rank_in_peer_group,
    s.peer_group_units_ranked,
    s.rank_min,
    s.rank_max,
    s.unit_code,
    d.unit_name,
    s.scoring_status,
    round(s.coverage, 2) AS coverage,
    round(s.composite_score, 1) AS composite,
    round(s.professionalism_score, 1) AS professionalism,
    round(s.responsiveness_score, 1) AS responsiveness,
    round(s.self_governance_score, 1) AS self_governance,
    round(s.institutionalisation_score, 1) AS institutionalisation,
    round(s.digitalisation_score, 1) AS digitalisation,
    round(s.coverage_score, 1) AS coverage
FROM marts.mart_scorecard AS s
JOIN latest ON latest.month = s.month
LEFT JOIN marts.dim_unit AS d ON d.unit_code = s.unit_code
ORDER BY s.scoring_peer_group NULLS LAST, s.rank_in_peer_group NULLS LAST, s.unit_code;
