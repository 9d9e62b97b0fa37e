"""Builds the percolator's native kernel (bot/_percolate.c); everything else is in
pyproject.toml. The extension is optional: without a C compiler the install still
succeeds and paperbot matches in pure Python (slower, same results)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("bot._percolate", ["bot/_percolate.c"], optional=True, extra_compile_args=["-O2"])
    ]
)
