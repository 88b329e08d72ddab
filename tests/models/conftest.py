import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def one_thread():
    """Run the models' tests on one thread: these networks are far too small to gain from more,
    and two threads fighting another busy process on a 2-core machine run 10–100 times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
