"""derived: the tested PyTorch implementations behind *Deep Learning, Derived*.

One module per mathematical object; the pages of the book import from here.
"""
