"""Loaded once by the forkserver that starts the worker processes of `dibao-audit run`: each
stage runs in a fresh process (audit.py), which inherits what is loaded here instead of loading
it again (the pipeline's modules, pypinyin's dictionaries: about 0.7 s per process)."""

from pipelines.ingest import names
from pipelines.run import stages

__all__ = ["stages"]

names.pinyin_key("张伟")  # pypinyin's dictionaries, read on first use
names.load_confusions()
