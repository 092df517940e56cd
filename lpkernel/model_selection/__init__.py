"""Model selection under a memory budget (DESIGN §8).

:class:`MemoryBudgetSearchCV` cross-validates (n_components, n_bits) pairs at
equal training-feature memory and reports the best configuration per budget.
"""

from ._budget_search import MemoryBudgetSearchCV

__all__ = ["MemoryBudgetSearchCV"]
