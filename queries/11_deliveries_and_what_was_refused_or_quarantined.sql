-- Question (auditors): per feed and delivery date, what was delivered, loaded, quarantined or
-- refused, and why? Refused and "loaded with findings" deliveries come first.
-- Audit: audit.delivery_status (a view over audit.load_log and audit.validation_results); the
-- quarantined rows themselves, with the rule each broke, are in audit.quarantine.
SELECT
    feed,
    delivery_date,
    status,
    files,
    rows_in,
    rows_loaded,
    rows_quarantined,
    rows_refused,
    critical_failed,
    warnings,
    why,
    failed_expectations
FROM audit.delivery_status
ORDER BY status <> 'refused', status <> 'loaded_with_findings', feed, delivery_date DESC;
