"""Data validation with Great Expectations: the only package that imports it.

``great_expectations`` takes seconds to import, so it is imported lazily, on the
first batch that is validated, never at CLI start-up or in the scoring path.
"""

from tierlens.validate.suites import HardFailure, ValidationResult, validate_batch

__all__ = ["HardFailure", "ValidationResult", "validate_batch"]
