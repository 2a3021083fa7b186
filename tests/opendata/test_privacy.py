"""No personal data in any export, feed or poster: contact e-mails, names and
phone numbers, account e-mails and names (submitters, partner staff, admins,
voters), internal notes, tracking hashes and idempotency keys are all marked
in the world fixture, and no marker may appear in what these pages send."""

from __future__ import annotations

from portal.opendata.datasets import DATASETS
from tests.opendata.conftest import MARK, PHONE


def _outputs(client, world) -> dict[str, str]:
    urls = ["/data", "/posters", "/feeds/needs.atom", f"/feeds/projects/{world.project.id}.atom"]
    urls += [f"/data/{slug}.{fmt}" for slug in DATASETS for fmt in ("csv", "json")]
    for code in ("roads", "parks"):
        urls += [
            f"/feeds/categories/{code}.atom",
            f"/posters/categories/{code}",
            f"/posters/categories/{code}/qr.svg",
            f"/posters/place?category={code}&place=Gate",
        ]
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = response.get_data().decode("utf-8-sig")
    return pages


def test_no_personal_data_in_exports_feeds_or_posters(client, world):
    pages = _outputs(client, world)
    assert any("Broken lamp on Elm Street" in text for text in pages.values())
    for url, text in pages.items():
        assert MARK not in text.lower(), url
        assert PHONE not in text, url
        for secret in world.secrets:
            assert secret not in text, url


def test_markers_are_really_in_the_database(world):
    """The privacy test above would pass vacuously if the markers were not set."""
    need = world.listed[0]
    assert MARK in need.contact.email
    assert MARK in need.submitter.email
    assert MARK in need.submitter.display_name
