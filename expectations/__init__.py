"""Validation rules for the grassroots feeds: suites as code and custom Great Expectations classes.

Nothing here imports Great Expectations at module level except ``expectations.custom`` (which
defines GX classes and must therefore be imported lazily, from inside functions). The runner is
``grassroots.validation``. The Great Expectations project root is ``expectations/gx/``; everything
GX generates lives under ``expectations/gx/uncommitted/`` (git-ignored).
"""
