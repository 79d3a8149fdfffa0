import pytest

from .sites import council_site

BARSETSHIRE_HOST = "pay.barsetshire.test"
WESSEX_HOST = "pay.wessex.test"


@pytest.fixture
def barsetshire_site(council, settings):
    settings.ALLOWED_HOSTS = [BARSETSHIRE_HOST, WESSEX_HOST, "testserver"]
    return council_site(council, BARSETSHIRE_HOST)


@pytest.fixture
def wessex_site(other_council, settings):
    settings.ALLOWED_HOSTS = [BARSETSHIRE_HOST, WESSEX_HOST, "testserver"]
    return council_site(other_council, WESSEX_HOST)
