"""Checkers of the readers' answers, one module per page, named for the page.

A page's "Your answer" cell calls ``derived.checkers.<page>.check(...)`` with the reader's
answers. Each answer is decided by the same independent computation as the page's Check
(autograd, ``torch.nn`` layers, the shapes PyTorch computes), never by comparing text; a known
wrong answer is recognized and named, any other wrong answer gets the smallest counterexample
found, and malformed input is refused with a message that names its slot. The slot kinds are
in :mod:`derived.checkers.slots`, the verdict a notebook shows in
:mod:`derived.checkers.verdict`.
"""
