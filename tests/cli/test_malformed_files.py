"""Property: whatever a samples file holds, loading it gives checked samples or one InputError."""

import io

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genbench.io import InputError, load_samples

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.text(max_size=6),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e400", "0x10", "1,5", '"3"', "x"]),
)
rows = st.lists(st.lists(cells, min_size=0, max_size=4), min_size=0, max_size=150)


def check(path):
    try:
        samples = load_samples(path)
    except InputError as error:
        message = str(error)
        assert message and "\n" not in message
        return
    assert samples.ndim == 2 and samples.shape[1] == 2 and samples.dtype == np.float64
    assert len(samples) >= 100 and np.isfinite(samples).all()


@SETTINGS
@given(rows=rows, header=st.booleans(), separator=st.sampled_from([",", ";", "\t"]))
def test_any_csv_text(tmp_path, rows, header, separator):
    lines = (["x,y"] if header else []) + [separator.join(row) for row in rows]
    path = tmp_path / "samples.csv"
    path.write_text("\n".join(lines))
    check(path)


@SETTINGS
@given(data=st.binary(max_size=400))
def test_any_bytes_as_csv_or_npy(tmp_path, data):
    for name in ["samples.csv", "samples.npy"]:
        path = tmp_path / name
        path.write_bytes(data)
        check(path)


arrays = st.tuples(
    st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex64, np.str_]),
    st.lists(st.integers(0, 150), min_size=0, max_size=3),
)


@SETTINGS
@given(spec=arrays, fill=st.sampled_from([0.0, np.nan, np.inf, 1.5]))
def test_any_numpy_array(tmp_path, spec, fill):
    dtype, shape = spec
    array = np.full(shape, fill if dtype in (np.float64, np.float32) else 1, dtype=dtype)
    path = tmp_path / "samples.npy"
    np.save(path, array)
    check(path)


@SETTINGS
@given(cut=st.integers(0, 200))
def test_truncated_npy(tmp_path, cut):
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((150, 2)))
    path = tmp_path / "samples.npy"
    path.write_bytes(buffer.getvalue()[:cut])
    check(path)
