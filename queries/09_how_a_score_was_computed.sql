-- Question: how was one unit's score computed? Every indicator with its value and denominator, why
-- it is not scored (score_reason), the shrunk value that is scored, the peer mean, the 0–100
-- percentile-rank score and the weight, so the composite can be checked by hand
-- (docs/methodology.md).
-- Mart: mart_scorecard_indicators. Edit the unit code (default: a 湖里区 community).
WITH params AS (
    SELECT
        '350206001001' AS unit_code,
        (SELECT max(month) FROM marts.mart_scorecard_indicators) AS month
)
SELECT
    i.dimension_zh,
    i.indicator_code,
    i.label_zh,
    i.direction,
    i.weight,
    round(i.indicator_value, 4) AS indicator_value,
    i.indicator_denominator,
    i.score_reason,
    round(i.peer_mean, 4) AS peer_mean,
    round(i.scoring_value, 4) AS scoring_value,
    i.scoring_peer_group,
    round(i.peer_min, 4) AS peer_min,
    round(i.peer_max, 4) AS peer_max,
    i.peers_with_value,
    round(i.score, 1) AS score
FROM marts.mart_scorecard_indicators AS i
JOIN params ON params.unit_code = i.unit_code AND params.month = i.month
ORDER BY i.dimension, i.indicator_code;
