"""Bad input, fuzzed: every public callable of `derived` refuses every bad argument clearly.

For each argument of each public function, constructor and method (the registry in
``fuzz_cases``), hypothesis draws bad values of the argument's kind (``fuzz_kinds``): wrong
types, wrong dtypes, wrong shapes, NaN, inf, empty tensors, sizes below their minimum and
probabilities outside [0, 1). The call must raise ``ValueError`` or ``TypeError`` with a message
that names the argument and starts, as every message of the library does, with an argument's
name. A result, any other exception, or a message from deep inside PyTorch fails.
"""

import importlib
import inspect
import pkgutil
import re

import pytest
from fuzz_cases import CASES, RECORDS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import derived

EXAMPLES = 12  # per argument; the sampled bad values of a kind are about a dozen


def public_callables() -> list[str]:
    """``module.name`` of every public function and class, ``module.Class.method`` of methods.

    Public: defined in a module of `derived` whose name has no leading underscore, under a name
    with no leading underscore. The copies `make mutation` adds (``x_name__mutmut_3``) are not.
    """
    names = []
    for info in pkgutil.iter_modules(derived.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"derived.{info.name}")
        for name, obj in vars(module).items():
            if not public(name) or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                names.append(f"{info.name}.{name}")
            if inspect.isclass(obj):
                names += [
                    f"{info.name}.{name}.{m}"
                    for m, f in vars(obj).items()
                    if public(m) and inspect.isfunction(f)
                ]
    return sorted(names)


def public(name: str) -> bool:
    return not name.startswith("_") and "__mutmut_" not in name


def resolve(key: str):
    module, *path = key.split(".")
    obj = importlib.import_module(f"derived.{module}")
    for part in path:
        obj = getattr(obj, part)
    return obj


def parameters(key: str) -> list[str]:
    params = inspect.signature(resolve(key)).parameters
    return [name for name in params if name != "self"]


def valid_value(key: str, arg: str, kwargs: dict):
    """The argument's value in the valid call, else its default."""
    if arg in kwargs:
        return kwargs[arg]
    default = inspect.signature(resolve(key)).parameters[arg].default
    return None if default is inspect.Parameter.empty else default


def target(key: str):
    case = CASES[key]
    if case.call is not None:
        return case.call
    if case.instance is not None:
        return getattr(case.instance(), key.rsplit(".", 1)[1])
    return resolve(key)


PAIRS = [(key, arg) for key, case in CASES.items() for arg in case.kinds]


def test_every_public_callable_is_fuzzed_or_a_record():
    listed = set(CASES) | set(RECORDS)
    public = set(public_callables())
    assert not public - listed, f"add to tests/fuzz_cases.py: {sorted(public - listed)}"
    assert not listed - public, f"no longer public: {sorted(listed - public)}"
    assert not set(CASES) & set(RECORDS)


@pytest.mark.parametrize("key", sorted(CASES))
def test_every_parameter_has_a_kind_of_bad_value(key):
    assert sorted(CASES[key].kinds) == sorted(parameters(key))


@pytest.mark.parametrize("key", sorted(CASES))
def test_the_valid_call_succeeds(key):
    # Otherwise a refusal below could be the valid part of the call failing.
    target(key)(**CASES[key].args())


def names_argument(message: str, arg: str, params: list[str]) -> bool:
    """The message begins with one of ``params`` (the library's own words: no PyTorch message
    does) and names ``arg`` as a whole word, maybe indexed (``A[1]``) or a field (``trace.c``)."""
    word = rf"(?<![\w.]){re.escape(arg)}(?!\w)"
    starts = any(re.match(rf"{re.escape(p)}(?!\w)", message) for p in params)
    return starts and re.search(word, message) is not None


@pytest.mark.parametrize(("key", "arg"), PAIRS)
@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_bad_argument_is_refused_and_named(key, arg, data):
    kwargs = CASES[key].args()
    bad = data.draw(CASES[key].kinds[arg](valid_value(key, arg, kwargs)), label=arg)
    kwargs[arg] = bad
    call = target(key)
    try:
        call(**kwargs)
    except (ValueError, TypeError) as error:
        message = str(error)
        assert names_argument(message, arg, parameters(key)), (
            f"{key}({arg}=...) raised {type(error).__name__}({message!r})"
        )
    else:
        pytest.fail(f"{key} accepted {arg}={bad!r}")


@pytest.mark.parametrize(
    ("message", "arg", "named"),
    [
        ("x must be a torch.Tensor, got list", "x", True),
        ("W has 2 input channels, but x has 3", "x", True),  # begins with another argument
        ("A[1] and b[1] must have shapes (out, in) and (out,)", "b", True),
        ("trace.c must have shape (4, 3), got (3, 3)", "trace", True),
        ("W must have shape (F, C, K), got (3, 2)", "x", False),  # blames another argument
        (
            "randn() received an invalid combination of arguments - got (generator=int)",
            "generator",
            False,
        ),
        ("xs must be positive", "x", False),
    ],
)
def test_a_message_names_the_argument_in_the_library_s_own_words(message, arg, named):
    assert names_argument(message, arg, ["x", "W", "A", "b", "trace", "generator"]) == named
