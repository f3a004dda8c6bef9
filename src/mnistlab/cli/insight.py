"""`mnistlab cnn maps|patterns|oip|compare`: looking inside a trained CNN (being built)."""

from __future__ import annotations

CNN_SUBCOMMANDS: list = []
