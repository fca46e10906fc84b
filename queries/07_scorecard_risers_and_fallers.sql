-- Question: which units' composite score rose or fell most since the previous month (动态性)?
-- Mart: mart_scorecard. Ten of each, latest month.
WITH latest AS (SELECT max(month) AS month FROM marts.mart_scorecard),
moves AS (
    SELECT
        s.unit_code,
        d.unit_name,
        s.scoring_peer_group,
        round(s.previous_composite_score, 1) AS previous_composite_score,
        round(s.composite_score, 1) AS composite_score,
        round(s.composite_score_change, 1) AS composite_score_change,
        s.previous_rank_in_peer_group,
        s.rank_in_peer_group,
        row_number() OVER (ORDER BY s.composite_score_change DESC) AS rise_rank,
        row_number() OVER (ORDER BY s.composite_score_change ASC) AS fall_rank
    FROM marts.mart_scorecard AS s
    JOIN latest ON latest.month = s.month
    LEFT JOIN marts.dim_unit AS d ON d.unit_code = s.unit_code
    WHERE s.composite_score_change IS NOT NULL
)
SELECT * EXCLUDE (rise_rank, fall_rank)
FROM moves
WHERE (rise_rank <= 10 AND composite_score_change > 0) OR (fall_rank <= 10 AND composite_score_change < 0)
ORDER BY composite_score_change DESC;
