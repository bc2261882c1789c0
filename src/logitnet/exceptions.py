"""The exception types logitnet raises.

Each subclasses the built-in exception a user would catch for the same
mistake, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = ["NotCompiledError", "NotBuiltError", "ModelFileError", "DivergenceWarning"]


class NotCompiledError(ValueError):
    """Raised when a model is trained or evaluated before ``compile()``."""


class NotBuiltError(ValueError):
    """Raised when a layer's weights are needed before it has been built."""


class ModelFileError(ValueError):
    """Raised when a model file cannot be read: not a logitnet file, an unknown
    format version, a missing or unexpected piece, a wrong shape or dtype, or a
    truncated or corrupted file. The message names the file and the problem.
    """


class DivergenceWarning(RuntimeWarning):
    """Warned by ``fit`` when the loss (or the weights) became NaN or infinite.

    Training has stopped and the model keeps the weights and optimizer state
    of the last finite step; the message names the likely cause (learning
    rate, input scale, labels) and what was seen. Turn it into an error with
    ``warnings.simplefilter("error", DivergenceWarning)``.
    """
