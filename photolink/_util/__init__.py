"""Shared helpers with no physics: seeds, argument checking, statistics, tables, versions.

Everything in photolink may import from here; nothing here imports the rest of photolink.
"""
