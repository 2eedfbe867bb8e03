import os
from pathlib import Path

import pytest
import torch

from reinflect import download

REPO = Path(__file__).resolve().parents[1]


def _mirror() -> Path | None:
    env = os.environ.get(download.MIRROR_ENV)
    for cand in [env, REPO.parent / "shared" / "data"]:
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


@pytest.fixture
def data_mirror(monkeypatch) -> Path:
    """The shared data mirror (CI sets REINFLECT_DATA_MIRROR); skip where there is none."""
    m = _mirror()
    if m is None:
        pytest.skip("no data mirror: set REINFLECT_DATA_MIRROR")
    monkeypatch.setenv(download.MIRROR_ENV, str(m))
    return m


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
