"""Quality measurement: text similarity, table TEDS, olmOCR-bench style unit tests."""
