"""Property: any text given to a numeric option parses to a valid number or is refused with one
line and exit code 2, never a traceback."""

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genbench.cli import build_parser

texts = st.one_of(
    st.text(max_size=12),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["0", "-1", "1e3", "3.5", " 7", "0x10", "∞", "nan", "", "١٢"]),
)
OPTIONS = [
    (["run", "--seeds"], 1),
    (["run", "--steps"], 1),
    (["run", "--num-samples"], 1),
    (["run", "--workers"], 1),
    (["run", "--latent-dims"], 1),
    (["score", "--target", "spiral", "s.npy", "--seed"], 0),
]


@pytest.mark.parametrize(("prefix", "minimum"), OPTIONS)
@settings(max_examples=60, deadline=None)
@given(text=texts)
def test_numeric_options(prefix, minimum, text):
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            args = build_parser().parse_args([*prefix, text])
    except SystemExit as exit_info:
        assert exit_info.code == 2
        assert len(stderr.getvalue().strip().splitlines()) == 1
        return
    value = vars(args)[prefix[-1].lstrip("-").replace("-", "_")]
    values = value if isinstance(value, list) else [value]
    assert all(isinstance(v, int) and v >= minimum for v in values)
