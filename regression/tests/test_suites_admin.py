"""The suite admin: empty states, the two buttons (POST, permission, tenant, messages), item forms, run pages."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from regression.services import suite_item_check
from regression.suite_models import GoldenSuite, SuiteItem, SuiteRun
from testkit.factories import UserFactory
from testkit.plugin import grant

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_now")]
QUESTION = "Events on checkout-api last 30 days"
ROWS = {"stage": "execute", "pointer": "/references", "op": "row_count", "min": 1}
VIEW = ["regression.view_goldensuite", "regression.view_suiteitem", "regression.view_suiterun"]


def _suite(items: int = 1, tenant_id: str = "default") -> GoldenSuite:
    suite = GoldenSuite.objects.create(name=f"checkout-{tenant_id}", tenant_id=tenant_id, repeats=1)
    for position in range(items):
        item = SuiteItem(suite=suite, name=f"q{position}", question=QUESTION, assertions=[ROWS], position=position)
        suite_item_check(item=item)
        item.save()
    return suite


def _change(suite: GoldenSuite) -> str:
    return reverse("admin:regression_goldensuite_change", args=[suite.pk])


@pytest.fixture
def root(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_a_new_suite_page_says_what_to_do_next(root):
    page = root.get(_change(_suite(items=0))).content.decode()

    assert "No items yet — add one below." in page and "No runs yet" in page
    assert 'data-testid="record-baseline"' in page and 'data-testid="start-run"' in page


@pytest.mark.usefixtures("reference_assets")
def test_record_baseline_then_start_a_run_redirects_to_each_run_page_with_a_message(root):
    suite = _suite()

    recorded = root.post(reverse("admin:regression_goldensuite_record_baseline", args=[suite.pk]))
    baseline = SuiteRun.objects.get()
    assert recorded.status_code == 302 and recorded["Location"] == reverse("admin:regression_suiterun_change",
                                                                           args=[baseline.pk])
    assert [str(m) for m in get_messages(recorded.wsgi_request)] == [
        f"Baseline recording #{baseline.pk} of {suite.name} started (completed)."]
    started = root.post(reverse("admin:regression_goldensuite_start_run", args=[suite.pk]))
    run = SuiteRun.objects.exclude(pk=baseline.pk).get()
    assert started["Location"] == reverse("admin:regression_suiterun_change", args=[run.pk])

    page = root.get(started["Location"]).content.decode()
    assert 'data-testid="verdict-table"' in page and 'data-item="q0"' in page
    assert 'data-testid="stage-chip"' in page and "1/1" in page and 'http-equiv="refresh"' not in page
    suite_page = root.get(_change(suite)).content.decode()
    assert suite_page.count('data-testid="run-row"') == 2


def test_a_run_without_a_baseline_is_refused_with_a_message_and_nothing_started(root):
    suite = _suite()

    response = root.post(reverse("admin:regression_goldensuite_start_run", args=[suite.pk]), follow=True)

    assert "record the baseline first" in response.content.decode()
    assert not SuiteRun.objects.exists()


def test_the_buttons_need_post_permission_and_the_suite_tenant(client):
    suite, foreign = _suite(), _suite(tenant_id="globex")
    viewer = grant(UserFactory(is_staff=True), *VIEW)
    client.force_login(viewer)
    start = reverse("admin:regression_goldensuite_start_run", args=[suite.pk])

    page = client.get(_change(suite)).content.decode()
    assert 'data-testid="start-run"' not in page and 'data-testid="record-baseline"' not in page
    assert client.post(start).status_code == 403
    grant(viewer, "regression.add_regressionrun", "regression.add_baseline")
    assert client.get(start).status_code == 405
    assert client.post(reverse("admin:regression_goldensuite_start_run", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("admin:regression_goldensuite_record_baseline",
                               args=[foreign.pk])).status_code == 404
    assert not SuiteRun.objects.exists()


def test_the_buttons_are_csrf_protected(root):
    root.handler.enforce_csrf_checks = True
    suite = _suite()

    assert root.post(reverse("admin:regression_goldensuite_record_baseline", args=[suite.pk])).status_code == 403
    assert not SuiteRun.objects.exists()


def _inline_post(suite: GoldenSuite, **item) -> dict:
    data = {"name": suite.name, "tenant_id": suite.tenant_id, "description": "", "repeats": "1", "options": "{}",
            "schedule": "", "enabled": "on",
            "items-TOTAL_FORMS": "1", "items-INITIAL_FORMS": "0", "items-MIN_NUM_FORMS": "0",
            "items-MAX_NUM_FORMS": "1000"}
    data.update({f"items-0-{key}": value for key, value in item.items()})
    return data


def test_an_item_with_a_bad_assertion_is_refused_naming_it_and_a_good_one_is_stored(root):
    suite = _suite(items=0)
    bad = root.post(_change(suite), _inline_post(suite, name="q", kind="question", question=QUESTION, position="0",
                                                 assertions='[{"stage": "execute", "op": "row_count", "min": 3, '
                                                            '"max": 1}]'))
    assert bad.status_code == 200 and "row_count min (3) is greater than max (1)" in bad.content.decode()
    assert not SuiteItem.objects.exists()

    good = root.post(_change(suite), _inline_post(suite, name="q", kind="question", question=QUESTION, position="0",
                                                  assertions='[{"stage": "execute", "pointer": "/references", '
                                                             '"op": "row_count", "min": 1}]'))
    assert good.status_code == 302
    assert SuiteItem.objects.get().assertions == [ROWS]
    assert '"op": "row_count"' in root.get(_change(suite)).content.decode().replace("&quot;", '"')


def test_the_page_saves_with_its_untouched_extra_item_row(root):
    suite = _suite(items=0)
    blank_row = root.get(_change(suite)).content.decode()
    assert 'name="items-0-assertions"' in blank_row and ">null<" not in blank_row

    saved = root.post(_change(suite), {**_inline_post(suite, name="", kind="question", question="", stage="",
                                                      trace_id="", assertions="[]", position="0"),
                                       "description": "changed"})

    assert saved.status_code == 302 and not SuiteItem.objects.exists()
    suite.refresh_from_db()
    assert suite.description == "changed"


def test_a_suite_with_items_keeps_its_tenant_even_for_a_member_of_both(root):
    suite = _suite(items=1)
    empty = _suite(items=0, tenant_id="acme")

    anchored = root.get(_change(suite)).content.decode()
    free = root.get(_change(empty)).content.decode()
    root.post(_change(suite), {**_inline_post(suite), "items-TOTAL_FORMS": "0", "items-INITIAL_FORMS": "0",
                               "tenant_id": "acme"})

    assert 'name="tenant_id"' not in anchored and 'name="tenant_id"' in free
    suite.refresh_from_db()
    assert suite.tenant_id == "default"


def test_bad_suite_settings_are_refused_on_the_form(root):
    suite = _suite(items=0)
    data = {**_inline_post(suite), "items-TOTAL_FORMS": "0", "schedule": "every monday",
            "options": '{"warn_at": 60, "fail_at": 50}'}

    page = root.post(_change(suite), data).content.decode()

    assert "warn_at (60) must not exceed fail_at (50)" in page
    suite.refresh_from_db()
    assert suite.options == {} and suite.schedule == ""


def test_a_pending_run_page_shows_progress_and_refreshes(root):
    suite = _suite(items=2)
    run = SuiteRun.objects.create(suite=suite)

    page = root.get(reverse("admin:regression_suiterun_change", args=[run.pk])).content.decode()

    assert 'http-equiv="refresh"' in page and ">pending<" in page and "0 / 2" in page
    assert page.count('data-testid="item-row"') == 2


def test_another_tenants_run_page_is_404(client):
    run = SuiteRun.objects.create(suite=_suite(tenant_id="globex"))
    client.force_login(grant(UserFactory(is_staff=True), *VIEW))

    assert client.get(reverse("admin:regression_suiterun_change", args=[run.pk])).status_code == 404
