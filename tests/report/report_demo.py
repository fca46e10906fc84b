"""Constants of the report tests' demo region (湖里区, Xiamen), shared by conftest and the tests."""

COUNTY = "350206000000"
PERIOD = "2024-02"
FIRST_PERIOD = "2024-01"
REPORT_PII_KEY = "report-test-key-0123456789abcdef"
