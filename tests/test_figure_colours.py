"""Every colour the pages' figures name can be told apart by colour-blind readers.

The pages draw with the Okabe-Ito palette, black, white and greys, and the perceptually uniform
colormaps viridis and cividis; this keeps any new figure to the same set.
"""

import re
from pathlib import Path

import jupytext
import pytest
from matplotlib.colors import to_rgb

ROOT = Path(__file__).parents[1]
PAGES = sorted(ROOT.glob("chapters/*/*.md"))
OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"}
COLORMAPS = {"viridis", "cividis"}
KEYWORD = r"\b(?:\w*color|colors)\s*=\s*"


def named_colours(code: str) -> list[str]:
    return [
        *re.findall(r"#[0-9A-Fa-f]{6}\b", code),
        *re.findall(KEYWORD + r"[\"']([\w:]+)[\"']", code),
        # plot format strings such as "k--" or "r:"
        *re.findall(r"[\"']([bgrcmykw])(?:--|-\.|-|:)[\"']", code),
    ]


def safe(colour: str) -> bool:
    if colour == "none" or colour.upper() in OKABE_ITO:
        return True
    red, green, blue = to_rgb(colour)
    return red == green == blue  # black, white or a grey


def test_the_checks_find_colours():
    code = 'plot(x, "r--", color="#123456", markerfacecolor="tab:blue")\ncmap="jet"'
    assert named_colours(code) == ["#123456", "tab:blue", "r"]
    assert not any(map(safe, named_colours(code)))
    assert all(map(safe, ["#0072b2", "k", "grey", "#EEEEEE", "none"]))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_figures_use_colour_blind_safe_colours(page):
    cells = [c.source for c in jupytext.read(page).cells if c.cell_type == "code"]
    code = "\n".join(cells)
    assert [c for c in named_colours(code) if not safe(c)] == []
    assert set(re.findall(r"cmap\s*=\s*[\"'](\w+)[\"']", code)) <= COLORMAPS
